package web

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/orgguard/orgguard/internal/apiv1"
	"github.com/orgguard/orgguard/internal/app"
)

// FuzzDecodeAPIBody: any request body of the JSON API reads into a plan
// request or is refused as bad input (or as the wrong media type, or too
// large) — never a panic, never an internal error.
func FuzzDecodeAPIBody(f *testing.F) {
	for _, s := range []string{
		`{"operations":[{"op":"attach-policy","policy":"deny-all","target":"Root"}],"description":"x"}`,
		`{"operations":[]}`, `{}`, ``, `  `, `null`, `[]`, `{"operations":1}`, `{"unknown":true}`,
		`{"operations":[{"op":"move-account","accounts":["111111111111"],"to":"ou-x"}]} {}`,
		"{\"description\":\"\xff\"}", `{"expect":{"accounts":["a","b"]}}`,
	} {
		f.Add([]byte(s), "application/json")
	}
	f.Add([]byte(`{}`), "text/plain")
	f.Add(bytes.Repeat([]byte(" "), apiv1.MaxBodyBytes+1), "application/json")
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		r := httptest.NewRequest(http.MethodPost, "/api/v1/plans", bytes.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		var in apiv1.PlanRequest
		err := decodeJSON(httptest.NewRecorder(), r, &in, false)
		var tooBig *http.MaxBytesError
		if err != nil && !errors.Is(err, app.ErrBadInput) && !errors.Is(err, errMediaType) && !errors.As(err, &tooBig) {
			t.Fatalf("decodeJSON(%q, %q) = %v: want bad input, a media type or a size refusal", body, contentType, err)
		}
	})
}
