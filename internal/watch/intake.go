package watch

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
)

// Handler is the event intake: POST / with an EventBridge event (the JSON
// an API destination posts) and the shared secret in the configured
// header. It answers 202 when the event is queued, 200 when it is ignored
// (not an Organizations call, or a read-only one), 401 without the right
// secret, 413 for a body over the limit and 400 for a malformed one —
// touching no state in those cases. The secret is compared in constant
// time.
type Handler struct {
	Secret  []byte
	Header  string
	MaxBody int64
	Notify  func(Event) bool
	Log     *slog.Logger
}

// NewHandler returns the intake for w.
func NewHandler(w *Watcher, secret []byte, in Intake, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{Secret: secret, Header: in.Header, MaxBody: in.MaxBodyBytes, Notify: w.Notify, Log: log}
}

// writes are the Organizations calls that change what the watcher reads.
var writes = map[string]bool{
	"AttachPolicy": true, "DetachPolicy": true, "CreatePolicy": true, "UpdatePolicy": true, "DeletePolicy": true,
	"MoveAccount": true, "CreateAccount": true, "CloseAccount": true, "RemoveAccountFromOrganization": true,
	"InviteAccountToOrganization": true, "AcceptHandshake": true, "LeaveOrganization": true,
	"CreateOrganizationalUnit": true, "UpdateOrganizationalUnit": true, "DeleteOrganizationalUnit": true,
	"EnablePolicyType": true, "DisablePolicyType": true, "TagResource": true, "UntagResource": true,
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reply := func(code int, msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(map[string]string{"status": msg})
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		reply(http.StatusMethodNotAllowed, "POST an EventBridge event")
		return
	}
	got := []byte(r.Header.Get(h.Header))
	if len(h.Secret) == 0 || subtle.ConstantTimeCompare(got, h.Secret) != 1 {
		h.Log.Warn("intake: refused a request without the right secret", "remote", r.RemoteAddr)
		reply(http.StatusUnauthorized, "missing or wrong secret")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.MaxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			reply(http.StatusRequestEntityTooLarge, "body too large")
			return
		}
		reply(http.StatusBadRequest, "unreadable body")
		return
	}
	ev, err := ParseEvent(body)
	if err != nil {
		reply(http.StatusBadRequest, err.Error())
		return
	}
	if !writes[ev.Name] {
		reply(http.StatusOK, "ignored: "+ev.Name+" changes nothing the watcher reads")
		return
	}
	if !h.Notify(ev) {
		reply(http.StatusAccepted, "queue full: the next poll will catch the change")
		return
	}
	h.Log.Info("intake: event queued", "event", ev.Name, "id", ev.ID, "actor", ev.Actor)
	reply(http.StatusAccepted, "queued")
}
