package catalog

import (
	"slices"
	"testing"
)

func TestSuggestNamesTheNearestCatalogNames(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		pattern string
		want    string // among the suggestions
	}{
		{"s3:GetObjekt", "s3:GetObject"},
		{"S3:getobjekt", "s3:GetObject"},
		{"s4:GetObject", "s3:GetObject"},
		{"ec2:DescribeInstanse", "ec2:DescribeInstances"},
		{"iam:CreatUser", "iam:CreateUser"},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+" suggests "+tt.want, func(t *testing.T) {
			got := c.Suggest(tt.pattern, 3)
			if !slices.Contains(got, tt.want) {
				t.Errorf("Suggest(%q, 3) = %v, want it to contain %q", tt.pattern, got, tt.want)
			}
		})
	}
	if got := c.Suggest("zzzzqqqq:Nothing", 3); len(got) != 0 {
		t.Errorf("Suggest of a far-off name = %v, want none", got)
	}
}
