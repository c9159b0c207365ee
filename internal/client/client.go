// Package client is a small client of orgguard's JSON API (/api/v1, see
// docs/api.md and internal/apiv1): the command line's server mode uses it
// after `orgguard login`. Every call takes a context and is bounded by the
// HTTP client's timeout; an error answer is an *Error carrying the API's
// code.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/orgguard/orgguard/internal/apiv1"
)

// DefaultTimeout bounds one request (an apply request waits for the
// engine to record its change: up to 45 s on the server).
const DefaultTimeout = 60 * time.Second

// maxResponseBytes bounds a response body (a plan of thousands of accounts
// is megabytes).
const maxResponseBytes = 64 << 20

// Client calls one server with one API token. Make it with New.
type Client struct {
	base  *url.URL
	token string
	hc    *http.Client
}

// Error is an error answer of the API: its HTTP status, code (apiv1.Code*)
// and message.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("the server answered %d %s", e.Status, e.Code)
	}
	return e.Message
}

// Code returns the API error code of err ("" when err is not an *Error).
func Code(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// ParseServer checks a server URL: http or https, a host, no query or
// fragment. The path, if any, is kept (a server behind a reverse proxy
// under a prefix).
func ParseServer(server string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(server))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("server %q: want an http or https URL such as https://orgguard.example.com", server)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return u, nil
}

// New returns a client of server acting with token. hc nil means a client
// with DefaultTimeout.
func New(server, token string, hc *http.Client) (*Client, error) {
	u, err := ParseServer(server)
	if err != nil {
		return nil, err
	}
	token = strings.TrimSpace(token)
	if token == "" || strings.ContainsAny(token, " \t\r\n") {
		return nil, errors.New("the API token is empty or holds spaces")
	}
	if hc == nil {
		hc = &http.Client{Timeout: DefaultTimeout}
	}
	return &Client{base: u, token: token, hc: hc}, nil
}

// Server returns the server's URL.
func (c *Client) Server() string { return c.base.String() }

// do sends one request (in JSON when in is not nil) and decodes a 2xx
// answer into out (when not nil).
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encoding the request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base.String()+apiv1.Prefix+path, body)
	if err != nil {
		return fmt.Errorf("calling %s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("calling %s: %w", c.base.Host, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, maxResponseBytes))
	if err != nil {
		return fmt.Errorf("reading the answer to %s %s: %w", method, path, err)
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		var eb apiv1.ErrorBody
		if json.Unmarshal(b, &eb) != nil || eb.Error.Code == "" {
			return &Error{Status: res.StatusCode, Code: codeOfStatus(res.StatusCode),
				Message: fmt.Sprintf("%s %s: the server answered %s", method, path, res.Status)}
		}
		return &Error{Status: res.StatusCode, Code: eb.Error.Code, Message: eb.Error.Message}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("reading the answer to %s %s: %w", method, path, err)
	}
	return nil
}

// codeOfStatus names a status answered without an API error body (a
// proxy's, the mux's 405).
func codeOfStatus(status int) string {
	switch {
	case status == http.StatusUnauthorized:
		return apiv1.CodeUnauthenticated
	case status == http.StatusForbidden:
		return apiv1.CodeForbidden
	case status == http.StatusNotFound:
		return apiv1.CodeNotFound
	case status == http.StatusMethodNotAllowed:
		return apiv1.CodeMethod
	case status == http.StatusRequestEntityTooLarge:
		return apiv1.CodeTooLarge
	case status >= 500:
		return apiv1.CodeUnavailable
	}
	return apiv1.CodeBadInput
}

// Whoami says who the token acts as.
func (c *Client) Whoami(ctx context.Context) (apiv1.Whoami, error) {
	var w apiv1.Whoami
	return w, c.do(ctx, "GET", "/whoami", nil, &w)
}

// Plans lists stored plans, newest first; state "" and limit 0 mean all.
func (c *Client) Plans(ctx context.Context, state string, limit int) ([]apiv1.PlanSummary, error) {
	q := url.Values{}
	if state != "" {
		q.Set("state", state)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	path := "/plans"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var l apiv1.PlanList
	return l.Plans, c.do(ctx, "GET", path, nil, &l)
}

// Plan reads stored plan id.
func (c *Client) Plan(ctx context.Context, id string) (apiv1.Plan, error) {
	var p apiv1.Plan
	return p, c.do(ctx, "GET", "/plans/"+url.PathEscape(id), nil, &p)
}

// SubmitPlan asks the server to plan and store a change.
func (c *Client) SubmitPlan(ctx context.Context, r apiv1.PlanRequest) (apiv1.Plan, error) {
	var p apiv1.Plan
	return p, c.do(ctx, "POST", "/plans", r, &p)
}

// Approve approves plan id as the token's owner.
func (c *Client) Approve(ctx context.Context, id, comment string) (apiv1.Approval, error) {
	var a apiv1.Approval
	return a, c.do(ctx, "POST", "/plans/"+url.PathEscape(id)+"/approve", apiv1.ApproveRequest{Comment: comment}, &a)
}

// Apply starts applying plan id; follow the change with Change or Wait.
func (c *Client) Apply(ctx context.Context, id string, r apiv1.ApplyRequest) (apiv1.ApplyStarted, error) {
	var s apiv1.ApplyStarted
	return s, c.do(ctx, "POST", "/plans/"+url.PathEscape(id)+"/apply", r, &s)
}

// Change reads change id: state, journal, report once finished.
func (c *Client) Change(ctx context.Context, id string) (apiv1.Change, error) {
	var ch apiv1.Change
	return ch, c.do(ctx, "GET", "/changes/"+url.PathEscape(id), nil, &ch)
}

// Wait polls change id every interval until it has finished (or ctx
// ends), calling progress (when not nil) with each reading.
func (c *Client) Wait(ctx context.Context, id string, interval time.Duration, progress func(apiv1.Change)) (apiv1.Change, error) {
	if interval <= 0 {
		interval = time.Second
	}
	for {
		ch, err := c.Change(ctx, id)
		if err != nil {
			return ch, fmt.Errorf("following change %s: %w", id, err)
		}
		if progress != nil {
			progress(ch)
		}
		if ch.Done {
			return ch, nil
		}
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return ch, fmt.Errorf("following change %s (it runs on on the server): %w", id, ctx.Err())
		case <-t.C:
		}
	}
}
