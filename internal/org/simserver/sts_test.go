package simserver_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/orgguard/orgguard/internal/org/simserver"
)

// TestGetCallerIdentity: the AWS SDK's STS client asks the simulator who
// it is and hears an IAM user of the management account named after its
// access key.
func TestGetCallerIdentity(t *testing.T) {
	o, snap := newSim(t, 5)
	srv := httptest.NewServer(simserver.HostGuard(simserver.New(o, simserver.Options{}), "127.0.0.1:0"))
	t.Cleanup(srv.Close)
	mgmt := snap.Organization.ManagementAccountID
	tests := []struct {
		name, key, want string
	}{
		{"the access key names the user", "alice", "arn:aws:iam::" + mgmt + ":user/alice"},
		{"characters an IAM name cannot hold are dropped", "bob<script>", "arn:aws:iam::" + mgmt + ":user/bobscript"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
				Credentials: credentials.NewStaticCredentialsProvider(tt.key, "secret", ""), RetryMaxAttempts: 1})
			out, err := c.GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
			if err != nil {
				t.Fatalf("GetCallerIdentity: %v", err)
			}
			if got := aws.ToString(out.Arn); got != tt.want || aws.ToString(out.Account) != mgmt {
				t.Errorf("GetCallerIdentity = %s in %s, want %s in %s", got, aws.ToString(out.Account), tt.want, mgmt)
			}
		})
	}
	t.Run("other STS actions are refused", func(t *testing.T) {
		resp, err := http.Post(srv.URL, "application/x-www-form-urlencoded", strings.NewReader(url.Values{"Action": {"AssumeRole"}, "Version": {"2011-06-15"}}.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("AssumeRole answered %s, want 400 InvalidAction", resp.Status)
		}
	})
}
