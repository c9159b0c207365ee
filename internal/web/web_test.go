package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/orgguard/orgguard/internal/app"
	"github.com/orgguard/orgguard/internal/config"
	"github.com/orgguard/orgguard/internal/importcheck"
	"github.com/orgguard/orgguard/internal/store"
)

// newTestApp opens the application layer on a fresh SQLite store (not
// created until something needs it).
func newTestApp(t *testing.T) *app.App {
	t.Helper()
	cfg := config.Defaults()
	cfg.Store = filepath.Join(t.TempDir(), "orgguard.db")
	a, err := app.New(app.Options{Config: &cfg, Actor: "tester"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// newTestServer makes a Server on a fresh store, logging to the returned
// buffer.
func newTestServer(t *testing.T, o Options) (*Server, *bytes.Buffer) {
	t.Helper()
	if o.App == nil {
		o.App = newTestApp(t)
	}
	var logs bytes.Buffer
	o.Log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := New(o)
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	return s, &logs
}

// do serves one request and returns the response.
func do(t *testing.T, h http.Handler, method, target string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}

func TestWebKeepsToTheApplicationLayer(t *testing.T) {
	forbidden := map[string]string{
		"github.com/orgguard/orgguard/internal/store/sqlstore": "the SQL store",
		"github.com/orgguard/orgguard/internal/org/sim":        "the simulator",
		"github.com/orgguard/orgguard/internal/org/awsorg":     "the AWS backend",
		"github.com/orgguard/orgguard/internal/probe/awsprobe": "the AWS prober",
	}
	for name, paths := range importcheck.Imports(t) {
		for _, path := range paths {
			if what, ok := forbidden[path]; ok {
				t.Errorf("%s imports %s (%s); go through internal/app", name, path, what)
			}
		}
	}
}

func TestEveryResponseCarriesTheSecurityHeaders(t *testing.T) {
	always := map[string]string{
		"Content-Security-Policy": ContentSecurityPolicy,
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "same-origin",
		"X-Frame-Options":         "DENY",
	}
	requests := []struct {
		method, target string
		header         map[string]string
		status         int
	}{
		{"GET", "/", nil, 200},
		{"GET", "/healthz", nil, 200},
		{"GET", "/assets/style.css", nil, 200},
		{"GET", "/no/such/page", nil, 404},
		{"GET", "/api/me", nil, 401},
		{"POST", "/", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
	}
	for _, tls := range []bool{false, true} {
		s, _ := newTestServer(t, Options{TLS: tls})
		for _, rq := range requests {
			t.Run(fmt.Sprintf("%s %s with TLS %v", rq.method, rq.target, tls), func(t *testing.T) {
				res, _ := do(t, s.Handler(), rq.method, rq.target, rq.header)
				if res.StatusCode != rq.status {
					t.Errorf("status = %d, want %d", res.StatusCode, rq.status)
				}
				for k, want := range always {
					if got := res.Header.Get(k); got != want {
						t.Errorf("%s = %q, want %q", k, got, want)
					}
				}
				hsts := res.Header.Get("Strict-Transport-Security")
				if tls && hsts == "" {
					t.Errorf("no Strict-Transport-Security over TLS")
				}
				if !tls && hsts != "" {
					t.Errorf("Strict-Transport-Security = %q without TLS", hsts)
				}
			})
		}
	}
}

// TestNoInlineScriptOrStyle: the CSP allows no inline code, and no
// template relies on any.
func TestNoInlineScriptOrStyle(t *testing.T) {
	for _, bad := range []string{"'unsafe-inline'", "'unsafe-eval'", "*"} {
		if strings.Contains(ContentSecurityPolicy, bad) {
			t.Errorf("the Content-Security-Policy allows %s: %s", bad, ContentSecurityPolicy)
		}
	}
	for _, directive := range []string{"script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'"} {
		if !strings.Contains(ContentSecurityPolicy, directive) {
			t.Errorf("the Content-Security-Policy lacks %q", directive)
		}
	}
	err := walkTemplates(func(name, text string) {
		low := strings.ToLower(text)
		for _, bad := range []string{" style=", "<style", " onclick=", " onload=", " onsubmit=", "javascript:"} {
			if strings.Contains(low, bad) {
				t.Errorf("%s holds %q: inline code the CSP refuses", name, strings.TrimSpace(bad))
			}
		}
		for _, tag := range strings.Split(low, "<script")[1:] {
			if !strings.HasPrefix(strings.TrimSpace(tag), "src=") {
				t.Errorf("%s has a <script> without src", name)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestCrossOriginStateChangesAreRefused(t *testing.T) {
	s, _ := newTestServer(t, Options{PublicURL: "https://status.example.com"})
	tests := []struct {
		name   string
		method string
		header map[string]string
		want   int
	}{
		{"a cross-site POST is refused", "POST", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, 403},
		{"a same-site POST from another origin is refused", "POST", map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "https://a.example.com"}, 403},
		{"a POST whose Origin is not the host is refused", "POST", map[string]string{"Origin": "https://evil.example"}, 403},
		{"a cross-site DELETE is refused", "DELETE", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"a same-origin POST passes (to the 404 of an unknown path)", "POST", map[string]string{"Sec-Fetch-Site": "same-origin"}, 404},
		{"a POST from the public URL's origin passes", "POST", map[string]string{"Origin": "https://status.example.com"}, 404},
		{"a POST without browser headers (an API client) passes", "POST", nil, 404},
		{"a cross-site GET passes", "GET", map[string]string{"Sec-Fetch-Site": "cross-site"}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := do(t, s.Handler(), tt.method, "/", tt.header)
			if res.StatusCode != tt.want {
				t.Errorf("%s / = %d, want %d\n%s", tt.method, res.StatusCode, tt.want, body)
			}
		})
	}
}

func TestErrorsMapToStatuses(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"a missing record is 404", fmt.Errorf("reading incident x: %w", store.ErrNotFound), 404},
		{"a missing record marked bad input is still 404", app.BadInput(fmt.Errorf("plan p: %w", store.ErrNotFound)), 404},
		{"bad input is 400", app.BadInput(errors.New("title: empty")), 400},
		{"a refusal is 409", app.Refused(errors.New("guardrail no-root-deny refused")), 409},
		{"a state conflict is 409", fmt.Errorf("approving: %w", store.ErrConflict), 409},
		{"a held lock is 409", fmt.Errorf("locking: %w", store.ErrLockHeld), 409},
		{"no user is 401", errUnauthenticated, 401},
		{"a missing role is 403", errForbidden, 403},
		{"a cross-origin request is 403", errCrossOrigin, 403},
		{"a body over the limit is 413", fmt.Errorf("reading the form: %w", &http.MaxBytesError{Limit: 10}), 413},
		{"anything else is 500", errors.New("disk on fire"), 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := statusOf(tt.err); got != tt.want {
				t.Errorf("statusOf(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}

func TestErrorResponsesShowOnlyWhatIsSafe(t *testing.T) {
	s, logs := newTestServer(t, Options{Auth: fakeAuth{"alice": {Name: "alice"}}})
	tests := []struct {
		name       string
		err        error
		target     string
		header     map[string]string
		wantStatus int
		want       []string
		notWant    []string
		wantLogged bool
	}{
		{name: "a 500 page hides the cause and logs it", err: errors.New("secret DSN postgres://u:pw@db"), target: "/x",
			wantStatus: 500, want: []string{"Something went wrong", "<html"}, notWant: []string{"secret DSN"}, wantLogged: true},
		{name: "a 500 in JSON hides the cause", err: errors.New("secret DSN"), target: "/api/x",
			wantStatus: 500, want: []string{`"error":`}, notWant: []string{"secret DSN"}, wantLogged: true},
		{name: "a 400 for an anonymous visitor is generic", err: app.BadInput(errors.New("store file /srv/x.db missing")), target: "/x",
			wantStatus: 400, want: []string{"could not be understood"}, notWant: []string{"/srv/x.db"}},
		{name: "a 400 for a signed-in user says why", err: app.BadInput(errors.New("title: must not be empty")), target: "/api/x",
			header: map[string]string{"Authorization": "alice"}, wantStatus: 400, want: []string{`"detail":"title: must not be empty"`}},
		{name: "the error page is in the visitor's language", err: errNotFound, target: "/x?lang=ja",
			wantStatus: 404, want: []string{"ページが見つかりません", `lang="ja"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs.Reset()
			h := s.middleware(s.handle(func(http.ResponseWriter, *http.Request) error { return tt.err }))
			res, body := do(t, h, "GET", tt.target, tt.header)
			if res.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", res.StatusCode, tt.wantStatus)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("body does not contain %q:\n%s", w, body)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(body, w) {
					t.Errorf("body shows %q:\n%s", w, body)
				}
			}
			if tt.wantLogged && !strings.Contains(logs.String(), "secret DSN") {
				t.Errorf("the cause was not logged:\n%s", logs.String())
			}
		})
	}
}

func TestPanicsBecome500(t *testing.T) {
	s, logs := newTestServer(t, Options{})
	h := s.middleware(s.handle(func(http.ResponseWriter, *http.Request) error { panic("boom") }))
	res, body := do(t, h, "GET", "/", nil)
	if res.StatusCode != 500 {
		t.Errorf("status = %d, want 500", res.StatusCode)
	}
	if strings.Contains(body, "boom") {
		t.Errorf("the panic shows in the page:\n%s", body)
	}
	if !strings.Contains(logs.String(), "boom") || !strings.Contains(logs.String(), "status=500") {
		t.Errorf("the panic and its 500 were not logged:\n%s", logs.String())
	}
}

func TestLanguageNegotiation(t *testing.T) {
	s, _ := newTestServer(t, Options{})
	tests := []struct {
		name       string
		target     string
		header     map[string]string
		want       string
		wantCookie string
	}{
		{name: "English by default", target: "/", want: "en"},
		{name: "Japanese by Accept-Language", target: "/", header: map[string]string{"Accept-Language": "ja-JP,ja;q=0.9"}, want: "ja"},
		{name: "an unsupported language falls back to English", target: "/", header: map[string]string{"Accept-Language": "fr-FR"}, want: "en"},
		{name: "the best supported language of several", target: "/", header: map[string]string{"Accept-Language": "fr, ja;q=0.8, en;q=0.5"}, want: "ja"},
		{name: "?lang= wins and is remembered", target: "/?lang=ja", header: map[string]string{"Accept-Language": "en"}, want: "ja", wantCookie: "ja"},
		{name: "the cookie wins over Accept-Language", target: "/", header: map[string]string{"Cookie": "lang=ja", "Accept-Language": "en"}, want: "ja"},
		{name: "?lang= with an unknown language is ignored", target: "/?lang=xx", header: map[string]string{"Cookie": "lang=ja"}, want: "ja"},
		{name: "a cookie with an unknown language is ignored", target: "/", header: map[string]string{"Cookie": "lang=xx"}, want: "en"},
		{name: "a malformed Accept-Language is English", target: "/", header: map[string]string{"Accept-Language": ";;;=="}, want: "en"},
	}
	text := map[string]string{"en": "All systems operational", "ja": "すべてのシステムは正常に稼働しています"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := do(t, s.Handler(), "GET", tt.target, tt.header)
			if !strings.Contains(body, `<html lang="`+tt.want+`">`) || !strings.Contains(body, text[tt.want]) {
				t.Errorf("GET %s with %v is not in %s:\n%s", tt.target, tt.header, tt.want, body)
			}
			var cookie string
			for _, c := range res.Cookies() {
				if c.Name == langCookie {
					cookie = c.Value
					if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
						t.Errorf("the language cookie is not HttpOnly and SameSite=Lax: %v", c)
					}
				}
			}
			if cookie != tt.wantCookie {
				t.Errorf("language cookie = %q, want %q", cookie, tt.wantCookie)
			}
			if !strings.Contains(res.Header.Get("Vary"), "Accept-Language") {
				t.Errorf("Vary = %q, want Accept-Language in it", res.Header.Get("Vary"))
			}
		})
	}
}

func TestCatalogsCoverTheTemplates(t *testing.T) {
	c, err := loadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	err = walkTemplates(func(name, text string) {
		for _, m := range regexp.MustCompile(`[{(\s]t "([^"]+)"`).FindAllStringSubmatch(text, -1) {
			key := m[1]
			for lang, msgs := range c {
				if _, ok := msgs[key]; !ok {
					t.Errorf("%s uses message %q, missing from messages/%s.json", name, key, lang)
				}
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	// Keys built in templates from states and severities.
	for lang, msgs := range c {
		for _, st := range store.IncidentStates {
			if _, ok := msgs["state."+string(st)]; !ok {
				t.Errorf("messages/%s.json lacks state.%s", lang, st)
			}
		}
		for _, sev := range []store.Severity{store.SevCritical, store.SevMajor, store.SevMinor} {
			if _, ok := msgs["severity."+string(sev)]; !ok {
				t.Errorf("messages/%s.json lacks severity.%s", lang, sev)
			}
		}
	}
}

// walkTemplates calls fn with each embedded template's name and text.
func walkTemplates(fn func(name, text string)) error {
	for _, pattern := range []string{"templates/*.html", "templates/pages/*.html"} {
		names, err := fs.Glob(templateFiles, pattern)
		if err != nil {
			return err
		}
		for _, name := range names {
			b, err := templateFiles.ReadFile(name)
			if err != nil {
				return err
			}
			fn(name, string(b))
		}
	}
	return nil
}

func TestHealthAndReadiness(t *testing.T) {
	blocked := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocked, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.Defaults()
	cfg.Store = filepath.Join(blocked, "orgguard.db") // under a file: never opens
	broken, err := app.New(app.Options{Config: &cfg, Actor: "tester"})
	if err != nil {
		t.Fatal(err)
	}
	defer broken.Close()
	tests := []struct {
		name   string
		app    *app.App
		target string
		status int
		body   string
	}{
		{"/healthz answers while the process runs", nil, "/healthz", 200, `{"status":"ok"}`},
		{"/readyz answers when the store does", nil, "/readyz", 200, `{"status":"ready"}`},
		{"/healthz answers without a store", broken, "/healthz", 200, `{"status":"ok"}`},
		{"/readyz is 503 without a store", broken, "/readyz", 503, `{"status":"unavailable"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newTestServer(t, Options{App: tt.app})
			res, body := do(t, s.Handler(), "GET", tt.target, nil)
			if res.StatusCode != tt.status || strings.TrimSpace(body) != tt.body {
				t.Errorf("GET %s = %d %s, want %d %s", tt.target, res.StatusCode, body, tt.status, tt.body)
			}
			if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type = %q, want JSON", ct)
			}
		})
	}
}

func TestAssetsAreCachedByContentHash(t *testing.T) {
	s, _ := newTestServer(t, Options{})
	url, err := s.assets.url("style.css")
	if err != nil {
		t.Fatal(err)
	}
	hash := url[strings.Index(url, "?v=")+3:]
	tests := []struct {
		name      string
		target    string
		header    map[string]string
		status    int
		cacheCtrl string
	}{
		{"the versioned URL is cached for a year", url, nil, 200, "public, max-age=31536000, immutable"},
		{"the plain URL revalidates", "/assets/style.css", nil, 200, "no-cache"},
		{"a stale version revalidates", "/assets/style.css?v=0000", nil, 200, "no-cache"},
		{"a matching ETag is 304", "/assets/style.css", map[string]string{"If-None-Match": `"` + hash + `"`}, 304, "no-cache"},
		{"an unknown asset is 404", "/assets/nope.css", nil, 404, ""},
		{"a path outside the assets is 404", "/assets/%2e%2e/web.go", nil, 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, _ := do(t, s.Handler(), "GET", tt.target, tt.header)
			if res.StatusCode != tt.status {
				t.Errorf("GET %s = %d, want %d", tt.target, res.StatusCode, tt.status)
			}
			if tt.cacheCtrl != "" && res.Header.Get("Cache-Control") != tt.cacheCtrl {
				t.Errorf("Cache-Control = %q, want %q", res.Header.Get("Cache-Control"), tt.cacheCtrl)
			}
		})
	}
	if _, err := s.assets.url("missing.js"); err == nil {
		t.Errorf("assets.url(missing.js) = nil error, want one")
	}
}

// fakeAuth signs a request in as the user named by its Authorization
// header.
type fakeAuth map[string]User

func (f fakeAuth) User(r *http.Request) (User, bool) {
	u, ok := f[r.Header.Get("Authorization")]
	return u, ok
}

func TestTeamRoutesNeedASignedInUser(t *testing.T) {
	auth := fakeAuth{"alice": {Name: "alice", Roles: []string{"viewer"}}, "bob": {Name: "bob", Roles: []string{"viewer", "admin"}}}
	tests := []struct {
		name   string
		auth   Auth
		role   string
		header map[string]string
		want   int
	}{
		{"without Auth nobody is signed in", nil, "", map[string]string{"Authorization": "alice"}, 401},
		{"an anonymous request is 401", auth, "", nil, 401},
		{"unknown credentials are 401", auth, "", map[string]string{"Authorization": "mallory"}, 401},
		{"any signed-in user passes a route without a role", auth, "", map[string]string{"Authorization": "alice"}, 200},
		{"a user without the role is 403", auth, "admin", map[string]string{"Authorization": "alice"}, 403},
		{"a user with the role passes", auth, "admin", map[string]string{"Authorization": "bob"}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newTestServer(t, Options{Auth: tt.auth})
			h := s.middleware(s.handle(s.requireUser(tt.role, s.me)))
			res, body := do(t, h, "GET", "/api/me", tt.header)
			if res.StatusCode != tt.want {
				t.Fatalf("status = %d, want %d\n%s", res.StatusCode, tt.want, body)
			}
			if tt.want == 200 && !strings.Contains(body, `"name":"`+tt.header["Authorization"]+`"`) {
				t.Errorf("body = %s, want the user's name", body)
			}
			if tt.want == 200 && !strings.Contains(res.Header.Get("Cache-Control"), "no-store") {
				t.Errorf("Cache-Control = %q, want no-store on a team route", res.Header.Get("Cache-Control"))
			}
		})
	}
	s, _ := newTestServer(t, Options{Auth: auth})
	if res, _ := do(t, s.Handler(), "GET", "/api/me", map[string]string{"Authorization": "alice"}); res.StatusCode != 200 {
		t.Errorf("GET /api/me through the route table = %d, want 200", res.StatusCode)
	}
}

func TestEventStream(t *testing.T) {
	t.Run("events are encoded line by line", func(t *testing.T) {
		got := Event{Name: "status\nx", ID: "7", Data: "a\nb\r\nc"}.encode()
		want := "id: 7\nevent: statusx\ndata: a\ndata: b\ndata: c\n\n"
		if got != want {
			t.Errorf("encode() = %q, want %q", got, want)
		}
	})
	t.Run("a stream sends changes and heartbeats until the client leaves", func(t *testing.T) {
		values := make(chan string, 10)
		for _, v := range []string{"v1", "v1", "v2"} {
			values <- v
		}
		read := func(context.Context) (string, error) {
			select {
			case v := <-values:
				return v, nil
			default:
				return "v2", nil
			}
		}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			Stream(w, r, 300*time.Millisecond, Changes(r.Context(), slog.New(slog.DiscardHandler), 5*time.Millisecond, "status", read)) // the heartbeat well after the three reads, even on a loaded machine
		}))
		defer srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
			t.Errorf("Content-Type = %q", ct)
		}
		var got strings.Builder
		buf := make([]byte, 512)
		for !strings.Contains(got.String(), ": heartbeat") {
			n, err := res.Body.Read(buf)
			got.Write(buf[:n])
			if err != nil {
				t.Fatalf("reading the stream: %v\n%s", err, got.String())
			}
		}
		want := "retry: 3000\n\nevent: status\ndata: v1\n\nevent: status\ndata: v2\n\n: heartbeat\n\n"
		if !strings.HasPrefix(got.String(), want) {
			t.Errorf("stream = %q, want it to start %q", got.String(), want)
		}
	})
}

func TestGracefulShutdown(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 2)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		<-release
		io.WriteString(w, "done")
	})
	mux.HandleFunc("GET /events", func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		Stream(w, r, time.Hour, nil)
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrc := make(chan string, 1)
	served := make(chan error, 1)
	go func() {
		served <- ListenAndServe(ctx, ServeOptions{Addr: "127.0.0.1:0", Listening: func(a net.Addr) { addrc <- a.String() }}, mux)
	}()
	base := "http://" + <-addrc
	slow := make(chan string, 1)
	go func() {
		res, err := http.Get(base + "/slow")
		if err != nil {
			slow <- "error: " + err.Error()
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		slow <- string(b)
	}()
	stream := make(chan error, 1)
	go func() {
		res, err := http.Get(base + "/events")
		if err != nil {
			stream <- err
			return
		}
		_, err = io.Copy(io.Discard, res.Body) // ends when the server ends the stream
		res.Body.Close()
		stream <- err
	}()
	<-started
	<-started
	cancel()
	select {
	case err := <-stream:
		if err != nil {
			t.Errorf("the event stream ended with %v, want a clean end", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the event stream did not end on shutdown")
	}
	select {
	case err := <-served:
		t.Fatalf("ListenAndServe returned %v before the request in flight finished", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if got := <-slow; got != "done" {
		t.Errorf("the request in flight got %q, want done", got)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("ListenAndServe() = %v, want nil after a graceful shutdown", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ListenAndServe did not return")
	}
	if _, err := http.Get(base + "/slow"); err == nil {
		t.Errorf("the server still accepts connections after shutdown")
	}
}
