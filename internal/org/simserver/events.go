package simserver

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// EventSink receives one notice per write the server served: the
// operation, its request body and the request ID. It must not block.
type EventSink interface {
	Written(op string, body []byte, requestID string)
}

// Encoder turns a served write into the EventBridge event to post (the
// watch package's EncodeEvent, passed in to keep simserver free of it).
type Encoder func(id, name string, at time.Time, actor, account string, params map[string]any, requestID string) ([]byte, error)

// Poster posts a CloudTrail-shaped EventBridge event for each write to a
// URL (an orgguard watch intake), with a shared secret in a header, in the
// order the writes were served, from one goroutine with a bounded queue.
// A full queue drops events (the watcher's polling still sees the change);
// a failed post is retried a few times, then dropped with a warning.
type Poster struct {
	URL, Header, Secret string
	Account             string // the management account, for the event
	Encode              Encoder
	Client              *http.Client
	Log                 *slog.Logger

	once  sync.Once
	queue chan posted
	wg    sync.WaitGroup
}

type posted struct {
	op, reqID string
	body      []byte
	at        time.Time
}

// Written implements EventSink.
func (p *Poster) Written(op string, body []byte, requestID string) {
	p.once.Do(p.start)
	select {
	case p.queue <- posted{op: op, reqID: requestID, body: bytes.Clone(body), at: time.Now()}:
	default:
		p.Log.Warn("event queue full; event dropped", "op", op)
	}
}

func (p *Poster) start() {
	if p.Client == nil {
		p.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if p.Log == nil {
		p.Log = slog.New(slog.DiscardHandler)
	}
	p.queue = make(chan posted, 4096)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for ev := range p.queue {
			p.post(ev)
		}
	}()
}

// Close posts what is queued and stops.
func (p *Poster) Close() {
	p.once.Do(p.start)
	close(p.queue)
	p.wg.Wait()
}

func (p *Poster) post(ev posted) {
	var params map[string]any
	_ = json.Unmarshal(ev.body, &params) // AWS JSON request members, as CloudTrail records them (lower camel case)
	params = lowerFirst(params)
	var b [16]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	actor := "arn:aws:iam::" + p.Account + ":user/sim-serve-client"
	body, err := p.Encode(id, ev.op, ev.at, actor, p.Account, params, ev.reqID)
	if err != nil {
		p.Log.Warn("encoding an event", "op", ev.op, "error", err)
		return
	}
	for attempt := 1; attempt <= 3; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = p.send(ctx, body)
		cancel()
		if err == nil {
			p.Log.Debug("event posted", "op", ev.op, "id", id)
			return
		}
		time.Sleep(time.Duration(attempt) * 200 * time.Millisecond)
	}
	p.Log.Warn("posting an event failed; dropped", "op", ev.op, "url", p.URL, "error", err)
}

func (p *Poster) send(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if p.Secret != "" {
		req.Header.Set(p.Header, p.Secret)
	}
	resp, err := p.Client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s answered %s", p.URL, resp.Status)
	}
	return nil
}

// lowerFirst renames PolicyId to policyId, as CloudTrail records request
// parameters.
func lowerFirst(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if k != "" && k[0] >= 'A' && k[0] <= 'Z' {
			k = string(k[0]+'a'-'A') + k[1:]
		}
		out[k] = v
	}
	return out
}

// requestIDHeader carries the request ID from ServeHTTP to the event hook.
const requestIDHeader = "X-Orgguard-Sim-Request-Id"
