package app

import (
	"testing"

	"github.com/orgguard/orgguard/internal/config"
)

func TestAWSRegionIsChosenAsTheAWSCLIDoes(t *testing.T) {
	tests := []struct {
		name       string
		configured string
		env        map[string]string
		want       string
	}{
		{"backend.aws.region wins", "eu-west-1", map[string]string{"AWS_REGION": "us-west-2", "AWS_DEFAULT_REGION": "ap-south-1"}, "eu-west-1"},
		{"then AWS_REGION", "", map[string]string{"AWS_REGION": "us-west-2", "AWS_DEFAULT_REGION": "ap-south-1"}, "us-west-2"},
		{"then AWS_DEFAULT_REGION", "", map[string]string{"AWS_DEFAULT_REGION": "ap-south-1"}, "ap-south-1"},
		{"else the profile's region (left to the SDK)", "", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := config.Defaults()
			c.Backend.AWS.Region = tt.configured
			a, err := New(Options{Config: &c, Actor: "alice", Getenv: func(k string) string { return tt.env[k] }})
			if err != nil {
				t.Fatal(err)
			}
			if got := a.awsRegion(); got != tt.want {
				t.Errorf("awsRegion() = %q, want %q", got, tt.want)
			}
		})
	}
}
