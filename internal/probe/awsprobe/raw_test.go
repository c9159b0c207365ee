package awsprobe

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Regional endpoints and partitions:
// https://docs.aws.amazon.com/general/latest/gr/rande.html
func TestEndpointAndPartition(t *testing.T) {
	tests := []struct {
		region, override, service string
		wantEndpoint, wantPart    string
	}{
		{"us-east-1", "", "ec2", "https://ec2.us-east-1.amazonaws.com", "aws"},
		{"eu-west-1", "", "s3", "https://s3.eu-west-1.amazonaws.com", "aws"},
		{"cn-northwest-1", "", "ec2", "https://ec2.cn-northwest-1.amazonaws.com.cn", "aws-cn"},
		{"us-gov-west-1", "", "s3", "https://s3.us-gov-west-1.amazonaws.com", "aws-us-gov"},
		{"us-east-1", "http://127.0.0.1:9/", "ec2", "http://127.0.0.1:9", "aws"},
	}
	for _, tt := range tests {
		p := &Prober{cfg: aws.Config{Region: tt.region}, opts: Options{EndpointURL: tt.override}}
		if got := p.endpoint(tt.service); got != tt.wantEndpoint {
			t.Errorf("endpoint(%q) in %s (override %q) = %q, want %q", tt.service, tt.region, tt.override, got, tt.wantEndpoint)
		}
		if got := partition(tt.region); got != tt.wantPart {
			t.Errorf("partition(%q) = %q, want %q", tt.region, got, tt.wantPart)
		}
	}
}

func TestXMLFields(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want map[string]string
	}{
		{"EC2's error document", `<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>no</Message></Error></Errors><RequestID>r1</RequestID></Response>`,
			map[string]string{"code": "UnauthorizedOperation", "message": "no", "requestid": "r1"}},
		{"S3's error document", `<?xml version="1.0"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>r2</RequestId><HostId>h</HostId></Error>`,
			map[string]string{"code": "AccessDenied", "message": "Access Denied", "requestid": "r2"}},
		{"the first of repeated elements", `<a><Code>first</Code><Code>second</Code></a>`, map[string]string{"code": "first"}},
		{"a truncated document keeps what was read", `<Error><Code>SlowDown</Code><Mess`, map[string]string{"code": "SlowDown"}},
		{"not XML", `{"__type":"x"}`, map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := xmlFields([]byte(tt.doc), "code", "message", "requestid")
			if len(got) != len(tt.want) {
				t.Fatalf("xmlFields(%q) = %v, want %v", tt.doc, got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("xmlFields(%q)[%q] = %q, want %q", tt.doc, k, got[k], v)
				}
			}
		})
	}
}
