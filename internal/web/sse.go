package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Event is one server-sent event.
type Event struct {
	// Name is the event's type (EventSource listeners name it); empty is
	// "message".
	Name string
	// ID, when set, is the event's id (the browser resends the last one
	// in Last-Event-ID when it reconnects).
	ID string
	// Data is the payload; each line becomes one data: line.
	Data string
}

// streamWriteWait bounds each write of an event stream: the server's
// WriteTimeout would end every stream, so streams lift it and bound
// each write instead (a client that stops reading is dropped).
const streamWriteWait = 30 * time.Second

// Stream serves events to an EventSource until the request ends, events
// is closed, or the server shuts down (ListenAndServe). While idle it
// sends a comment every heartbeat so that proxies keep the connection.
// Produce events from a goroutine bound to r.Context() (Changes does).
func Stream(w http.ResponseWriter, r *http.Request, heartbeat time.Duration, events <-chan Event) error {
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	write := func(s string) error {
		if err := rc.SetWriteDeadline(time.Now().Add(streamWriteWait)); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return fmt.Errorf("extending the event stream's write deadline: %w", err)
		}
		if _, err := fmt.Fprint(w, s); err != nil {
			return fmt.Errorf("writing to the event stream: %w", err)
		}
		if err := rc.Flush(); err != nil {
			return fmt.Errorf("flushing the event stream: %w", err)
		}
		return nil
	}
	if err := write("retry: 3000\n\n"); err != nil {
		return err
	}
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	draining := drainingFrom(r.Context())
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-draining:
			return nil
		case ev, ok := <-events:
			if !ok {
				return nil
			}
			if err := write(ev.encode()); err != nil {
				return err
			}
		case <-tick.C:
			if err := write(": heartbeat\n\n"); err != nil {
				return err
			}
		}
	}
}

// encode writes ev in the text/event-stream format.
func (ev Event) encode() string {
	var b strings.Builder
	oneLine := strings.NewReplacer("\r", "", "\n", "")
	if ev.ID != "" {
		fmt.Fprintf(&b, "id: %s\n", oneLine.Replace(ev.ID))
	}
	if ev.Name != "" {
		fmt.Fprintf(&b, "event: %s\n", oneLine.Replace(ev.Name))
	}
	data := strings.ReplaceAll(strings.ReplaceAll(ev.Data, "\r\n", "\n"), "\r", "\n")
	for line := range strings.SplitSeq(data, "\n") {
		fmt.Fprintf(&b, "data: %s\n", line)
	}
	b.WriteString("\n")
	return b.String()
}

// Changes calls read every interval until ctx ends and sends an event
// named name, with read's value as data, whenever the value differs from
// the last one sent (so the first read is always sent). A failed read is
// logged and retried at the next interval. The channel closes when ctx
// ends.
func Changes(ctx context.Context, log *slog.Logger, every time.Duration, name string, read func(context.Context) (string, error)) <-chan Event {
	out := make(chan Event)
	go func() {
		defer close(out)
		t := time.NewTicker(every)
		defer t.Stop()
		last, sent := "", false
		for {
			v, err := read(ctx)
			switch {
			case err != nil && ctx.Err() == nil:
				log.WarnContext(ctx, "reading for an event stream", "event", name, "err", err)
			case err == nil && (!sent || v != last):
				select {
				case out <- Event{Name: name, Data: v}:
					last, sent = v, true
				case <-ctx.Done():
					return
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return out
}

// drainKey carries, in every request's context, a channel that closes
// when the server starts shutting down: long-lived responses (event
// streams) end then, so that graceful shutdown does not wait for them.
type drainKey struct{}

func drainingFrom(ctx context.Context) <-chan struct{} {
	ch, _ := ctx.Value(drainKey{}).(<-chan struct{})
	return ch // nil (never ready) outside ListenAndServe
}
