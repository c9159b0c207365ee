// Package simserver serves the simulated organization (internal/org/sim)
// over the AWS Organizations wire protocol, AWS JSON 1.1: every request is
// a POST to / with Content-Type application/x-amz-json-1.1 and the header
// X-Amz-Target: AWSOrganizationsV20161128.<Operation>; the body and the
// response are the JSON shapes of the Organizations API reference. The AWS
// SDKs and the AWS CLI work against it with an endpoint override.
//
// Errors are answered as AWS does: HTTP 400 (500 for service errors) with
// {"__type": code, "Message": ..., "Reason": ...}; every response carries
// an x-amzn-RequestId header. List operations page with MaxResults (at most
// 20, as AWS) and an opaque, validated NextToken.
//
// The server accepts any Authorization header: SigV4 signatures are not
// verified, there are no users and no permissions. For tests it can inject
// latency, throttling (TooManyRequestsException) and
// ConcurrentModificationException at given rates, deterministically from a
// seed.
package simserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/orgguard/orgguard/internal/org"
)

// TargetPrefix is the X-Amz-Target prefix of Organizations operations.
const TargetPrefix = "AWSOrganizationsV20161128."

// ContentType is the media type of AWS JSON 1.1 requests and responses.
const ContentType = "application/x-amz-json-1.1"

// MaxBodyBytes bounds a request body.
const MaxBodyBytes = 1 << 20

// MaxPageSize is the largest MaxResults Organizations accepts.
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListAccounts.html
const MaxPageSize = 20

// Options configure a Server. The zero value serves without faults and
// logs nothing.
type Options struct {
	Logger *slog.Logger // nil = discard

	// Latency is added before every response (context-aware).
	Latency time.Duration
	// ThrottleRate is the probability (0..1) that a request is answered
	// with TooManyRequestsException instead of being served.
	ThrottleRate float64
	// ConflictRate is the probability (0..1) that a write request is
	// answered with ConcurrentModificationException without being applied.
	ConflictRate float64
	// FaultSeed seeds the fault injection; the same seed and the same
	// sequence of requests give the same faults.
	FaultSeed uint64

	// PageSize caps the items per page below what the client asks for
	// (as AWS may return fewer than MaxResults); 0 = MaxPageSize. Tests use
	// it to force many pages.
	PageSize int

	// PageCacheBytes bounds the estimated memory of the lists kept for the
	// next pages of listings; 0 = DefaultPageCacheBytes.
	PageCacheBytes int64
	// PageCacheTTL is how long such a list is kept; 0 =
	// DefaultPageCacheTTL.
	PageCacheTTL time.Duration
	// Events, when set, is told of every write served (see events.go).
	Events EventSink
}

// Server is an http.Handler speaking AWS JSON 1.1 in front of an
// organization. It is safe for concurrent use.
type Server struct {
	src  Source
	opts Options
	log  *slog.Logger
	key  []byte // signs pagination tokens

	faultMu sync.Mutex
	faults  *mrand.Rand

	cursors *cursors
}

// New returns a Server for src.
func New(src Source, o Options) *Server {
	if o.PageSize <= 0 || o.PageSize > MaxPageSize {
		o.PageSize = MaxPageSize
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if o.PageCacheBytes <= 0 {
		o.PageCacheBytes = DefaultPageCacheBytes
	}
	if o.PageCacheTTL <= 0 {
		o.PageCacheTTL = DefaultPageCacheTTL
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return &Server{
		src: src, opts: o, log: log, key: key,
		faults:  mrand.New(mrand.NewPCG(o.FaultSeed, 0x6f7267677561726)),
		cursors: newCursors(time.Now, o.PageCacheBytes, o.PageCacheTTL),
	}
}

// apiErr builds an *org.APIError; the server answers with its fields.
func apiErr(code, reason, format string, args ...any) *org.APIError {
	return &org.APIError{Code: code, Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// Protocol-level error codes (not specific to Organizations).
const (
	codeUnknownOperation = "UnknownOperationException"
	codeSerialization    = "SerializationException"
)

// ServeHTTP answers one AWS JSON 1.1 request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	reqID := newRequestID()
	w.Header().Set("x-amzn-RequestId", reqID)
	r.Header.Set(requestIDHeader, reqID)
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), TargetPrefix)
	status, code := http.StatusOK, ""
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("panic serving request", "op", op, "request_id", reqID, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			status, code = s.writeError(w, &org.APIError{Code: org.CodeService, Message: "internal error in the simulator (request " + reqID + ")"})
		}
		level := slog.LevelDebug
		if status >= 500 {
			level = slog.LevelError
		} else if code != "" {
			level = slog.LevelInfo
		}
		s.log.Log(r.Context(), level, "request", "op", op, "status", status, "error", code,
			"request_id", reqID, "duration", time.Since(start).Round(time.Microsecond))
	}()

	if isQueryRequest(r) {
		op = "sts"
		status, code = s.serveQuery(w, r, reqID)
		return
	}
	out, err := s.serve(r, op)
	if err != nil {
		status, code = s.writeError(w, err)
		return
	}
	body, err := json.Marshal(out)
	if err != nil {
		status, code = s.writeError(w, fmt.Errorf("encoding the %s response: %w", op, err))
		return
	}
	w.Header().Set("Content-Type", ContentType)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// serve checks the request, injects faults and runs the operation.
func (s *Server) serve(r *http.Request, op string) (any, error) {
	if r.Method != http.MethodPost {
		return nil, apiErr(codeUnknownOperation, "", "method %s is not supported; AWS JSON 1.1 requests are POST", r.Method)
	}
	if r.URL.Path != "/" && r.URL.Path != "" {
		return nil, apiErr(codeUnknownOperation, "", "path %q is not served; AWS JSON 1.1 requests go to /", r.URL.Path)
	}
	target := r.Header.Get("X-Amz-Target")
	if !strings.HasPrefix(target, TargetPrefix) {
		return nil, apiErr(codeUnknownOperation, "", "X-Amz-Target %q does not name an Organizations operation (want %s<Operation>)", target, TargetPrefix)
	}
	h, ok := operations()[op]
	if !ok {
		return nil, apiErr(codeUnknownOperation, "", "operation %s is not supported by the simulator", op)
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/x-amz-json-1.") && !strings.HasPrefix(ct, "application/json") {
		return nil, apiErr(codeSerialization, "", "Content-Type %q is not AWS JSON (want %s)", ct, ContentType)
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, apiErr(codeSerialization, "", "request body exceeds %d bytes", MaxBodyBytes)
		}
		return nil, apiErr(codeSerialization, "", "reading the request body: %v", err)
	}
	if s.opts.Latency > 0 {
		t := time.NewTimer(s.opts.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return nil, apiErr(org.CodeService, "", "request cancelled")
		}
	}
	if err := s.injectFault(h.write); err != nil {
		return nil, err
	}
	out, err := h.run(r.Context(), s, body)
	if err == nil && h.write && s.opts.Events != nil {
		s.opts.Events.Written(op, body, r.Header.Get(requestIDHeader))
	}
	return out, err
}

// injectFault draws the faults configured for one request.
func (s *Server) injectFault(write bool) error {
	if s.opts.ThrottleRate <= 0 && s.opts.ConflictRate <= 0 {
		return nil
	}
	s.faultMu.Lock()
	throttle := s.faults.Float64() < s.opts.ThrottleRate
	conflict := s.faults.Float64() < s.opts.ConflictRate
	s.faultMu.Unlock()
	if throttle {
		return apiErr(org.CodeTooManyRequests, "", "Rate exceeded (injected by the simulator)")
	}
	if conflict && write {
		return apiErr(org.CodeConcurrentModification, "", "AWS Organizations can't complete your request because it conflicts with another attempt to modify the same entity (injected by the simulator)")
	}
	return nil
}

// errorBody is the AWS JSON error shape the SDKs and the CLI parse.
type errorBody struct {
	Type    string `json:"__type"`
	Message string `json:"Message"`
	Reason  string `json:"Reason,omitempty"`
}

// writeError answers with err as AWS would: an *org.APIError keeps its
// code and reason; any other error is an internal ServiceException (500)
// whose details go to the log, not to the client.
func (s *Server) writeError(w http.ResponseWriter, err error) (int, string) {
	var ae *org.APIError
	if !errors.As(err, &ae) {
		reqID := w.Header().Get("x-amzn-RequestId")
		if errors.Is(err, context.Canceled) {
			s.log.Info("request cancelled by the client", "request_id", reqID)
		} else {
			s.log.Error("internal error", "request_id", reqID, "error", err)
		}
		ae = &org.APIError{Code: org.CodeService, Message: "internal error in the simulator (request " + reqID + ")"}
	}
	status := http.StatusBadRequest
	if ae.Code == org.CodeService {
		status = http.StatusInternalServerError
	}
	body, _ := json.Marshal(errorBody{Type: ae.Code, Message: ae.Message, Reason: ae.Reason})
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("X-Amzn-ErrorType", ae.Code)
	w.WriteHeader(status)
	_, _ = w.Write(body)
	return status, ae.Code
}

// newRequestID returns a random UUID (version 4) like AWS request IDs.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// Serve listens on addr and serves h until ctx is done, then shuts down
// gracefully (in-flight requests get up to 10 seconds). ready, if not nil,
// is called with the bound address once listening (useful with port 0).
func Serve(ctx context.Context, addr string, h http.Handler, log *slog.Logger, ready func(addr string)) error {
	ln, err := listen(ctx, addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(_ netListener) context.Context { return context.WithoutCancel(ctx) },
	}
	if log != nil {
		srv.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	}
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serving on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutting down the server on %s: %w", ln.Addr(), err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving on %s: %w", ln.Addr(), err)
	}
	return nil
}
