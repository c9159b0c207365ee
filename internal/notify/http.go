package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// post sends body to u and classifies the answer: 2xx is success; 408, 425,
// 429 and 5xx are transient; other answers are permanent. Errors never
// contain u (Slack's and many webhook URLs are secrets) nor secrets.
func post(ctx context.Context, client *http.Client, channel, u string, body []byte, header http.Header, secrets ...string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return permanent(fmt.Errorf("channel %s: building the request: %s", channel, redact(errText(err), append(secrets, u)...)))
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("channel %s: posting: %s", channel, redact(errText(err), append(secrets, u)...))
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	msg := fmt.Errorf("channel %s: the receiver answered %s: %s", channel, resp.Status, redact(strings.TrimSpace(string(snippet)), append(secrets, u)...))
	switch {
	case resp.StatusCode == http.StatusRequestTimeout, resp.StatusCode == http.StatusTooEarly,
		resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode >= 500:
		return msg
	}
	return permanent(msg)
}

// errText is err's message without the URL net/http puts in it.
func errText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// redact replaces every secret (and its URL-escaped form) in s.
func redact(s string, secrets ...string) string {
	for _, sec := range secrets {
		if len(sec) < 4 {
			continue
		}
		s = strings.ReplaceAll(s, sec, "[redacted]")
		if esc := url.QueryEscape(sec); esc != sec {
			s = strings.ReplaceAll(s, esc, "[redacted]")
		}
	}
	return s
}
