package awsprobe

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"
)

// rawCall is one cheap read operation of a service whose SDK module
// orgguard does not carry (EC2, S3): a single request, signed with the
// SDK's Signature Version 4 signer and retried with the SDK's retryer,
// whose response matters only as success or an AWS error.
type rawCall struct {
	service string // signing name and endpoint prefix: "ec2", "s3"
	method  string
	query   url.Values // sent in the URL (GET) or as a form body (POST)
}

// maxErrorBody bounds how much of a response is read.
const maxErrorBody = 1 << 20

// rawError is an AWS error from a raw call. It implements smithy.APIError
// and the interfaces the SDK retryer inspects (ErrorCode, HTTPStatusCode),
// so throttling and 5xx responses are retried as SDK calls are.
type rawError struct {
	status    int
	code      string
	message   string
	requestID string
}

var _ smithy.APIError = (*rawError)(nil)

func (e *rawError) Error() string {
	s := fmt.Sprintf("HTTP %d", e.status)
	if e.code != "" {
		s += ": " + e.code
	}
	if e.message != "" {
		s += ": " + e.message
	}
	return s
}
func (e *rawError) ErrorCode() string    { return e.code }
func (e *rawError) ErrorMessage() string { return e.message }
func (e *rawError) HTTPStatusCode() int  { return e.status }
func (e *rawError) ErrorFault() smithy.ErrorFault {
	if e.status >= 500 {
		return smithy.FaultServer
	}
	return smithy.FaultClient
}

// endpoint is the base URL of service: the configured EndpointURL (tests,
// a proxy) or the regional endpoint of the region's partition.
func (p *Prober) endpoint(service string) string {
	if p.opts.EndpointURL != "" {
		return strings.TrimRight(p.opts.EndpointURL, "/")
	}
	return "https://" + service + "." + p.cfg.Region + dnsSuffix(p.cfg.Region)
}

// dnsSuffix is the DNS suffix of the partition a region belongs to.
func dnsSuffix(region string) string {
	if strings.HasPrefix(region, "cn-") {
		return ".amazonaws.com.cn"
	}
	return ".amazonaws.com"
}

// partition is the ARN partition a region belongs to.
func partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// doRaw makes rc with creds, retrying what the SDK retryer retries, and
// returns the request id of the last attempt.
func (p *Prober) doRaw(ctx context.Context, creds aws.CredentialsProvider, rc rawCall) (string, error) {
	r := p.cfg.Retryer()
	for attempt := 1; ; attempt++ {
		id, err := p.rawAttempt(ctx, creds, rc)
		if err == nil {
			return id, nil
		}
		if ctx.Err() != nil || attempt >= r.MaxAttempts() || !r.IsErrorRetryable(err) {
			return id, err
		}
		d, derr := r.RetryDelay(attempt, err)
		if derr != nil {
			return id, err
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return id, err
		case <-t.C:
		}
	}
}

func (p *Prober) rawAttempt(ctx context.Context, creds aws.CredentialsProvider, rc rawCall) (string, error) {
	c, err := creds.Retrieve(ctx)
	if err != nil {
		return "", fmt.Errorf("retrieving the probe role's credentials: %w", err)
	}
	u := p.endpoint(rc.service) + "/"
	var body []byte
	if rc.method == http.MethodGet {
		u += "?" + rc.query.Encode()
	} else {
		body = []byte(rc.query.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, rc.method, u, bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("building the %s request: %w", rc.service, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	if rc.service == "s3" {
		req.Header.Set("X-Amz-Content-Sha256", hash)
	}
	if err := p.signer.SignHTTP(ctx, c, req, hash, rc.service, p.cfg.Region, time.Now()); err != nil {
		return "", fmt.Errorf("signing the %s request: %w", rc.service, err)
	}
	resp, err := p.cfg.HTTPClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("calling %s: %w", rc.service, err)
	}
	defer resp.Body.Close()
	data, rerr := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	fields := xmlFields(data, "code", "message", "requestid")
	id := resp.Header.Get("X-Amz-Request-Id")
	if id == "" {
		id = resp.Header.Get("X-Amzn-Requestid")
	}
	if id == "" {
		id = fields["requestid"]
	}
	if resp.StatusCode/100 == 2 {
		if rerr != nil {
			return id, fmt.Errorf("reading the %s response: %w", rc.service, rerr)
		}
		return id, nil
	}
	e := &rawError{status: resp.StatusCode, code: fields["code"], message: fields["message"], requestID: id}
	if e.code == "" {
		e.code = http.StatusText(resp.StatusCode)
	}
	return id, e
}

// xmlFields returns the text of the first element with each of the given
// lower-case local names, anywhere in an XML document; a malformed
// document yields what was found before the error.
func xmlFields(data []byte, names ...string) map[string]string {
	out := map[string]string{}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = false
	var cur string
	for len(out) < len(names) {
		tok, err := d.Token()
		if err != nil { // io.EOF or a malformed document
			return out
		}
		switch t := tok.(type) {
		case xml.StartElement:
			cur = strings.ToLower(t.Name.Local)
		case xml.CharData:
			if want[cur] {
				if _, seen := out[cur]; !seen {
					out[cur] = strings.TrimSpace(string(t))
				}
			}
		case xml.EndElement:
			cur = ""
		}
	}
	return out
}
