package awsconfig

import (
	"context"
	"strings"
	"testing"
)

// isolate points the SDK at empty shared files and no environment
// credentials, so that tests never read the machine's AWS configuration.
func isolate(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", dir+"/config")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", dir+"/credentials")
	for _, k := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION",
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"} {
		t.Setenv(k, "")
	}
}

func TestLoad(t *testing.T) {
	isolate(t)
	ctx := context.Background()
	t.Run("no region anywhere means us-east-1", func(t *testing.T) {
		cfg, err := Load(ctx, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Region != DefaultRegion {
			t.Errorf("Load(no region).Region = %q, want %q", cfg.Region, DefaultRegion)
		}
	})
	t.Run("a region in the options is kept", func(t *testing.T) {
		cfg, err := Load(ctx, Options{Region: "eu-west-1"})
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Region != "eu-west-1" {
			t.Errorf("Load(eu-west-1).Region = %q", cfg.Region)
		}
	})
	t.Run("a loopback endpoint without a profile gets the static key", func(t *testing.T) {
		cfg, err := Load(ctx, Options{EndpointURL: "http://127.0.0.1:8080", LoopbackKey: "orgguard-test"})
		if err != nil {
			t.Fatal(err)
		}
		creds, err := cfg.Credentials.Retrieve(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if creds.AccessKeyID != "orgguard-test" {
			t.Errorf("access key = %q, want orgguard-test", creds.AccessKeyID)
		}
	})
	t.Run("a remote endpoint does not get the static key", func(t *testing.T) {
		cfg, err := Load(ctx, Options{EndpointURL: "https://proxy.example.com", LoopbackKey: "orgguard-test"})
		if err != nil {
			t.Fatal(err)
		}
		if creds, err := cfg.Credentials.Retrieve(ctx); err == nil && creds.AccessKeyID == "orgguard-test" {
			t.Errorf("a remote endpoint got the loopback key")
		}
	})
	for _, bad := range []string{"localhost:8080", "ftp://127.0.0.1", "http://", "://x"} {
		t.Run("the endpoint "+bad+" is refused", func(t *testing.T) {
			_, err := Load(ctx, Options{EndpointURL: bad})
			if err == nil || !strings.Contains(err.Error(), "want http(s)://host[:port]") {
				t.Errorf("Load(%q) = %v, want a bad endpoint error", bad, err)
			}
		})
	}
	t.Run("an unknown profile is an error", func(t *testing.T) {
		_, err := Load(ctx, Options{Profile: "no-such-profile"})
		if err == nil || !strings.HasPrefix(err.Error(), "loading AWS configuration: ") {
			t.Errorf("Load(unknown profile) = %v, want a loading error", err)
		}
	})
}
