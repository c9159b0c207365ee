package org

import "context"

// requestIDSinkKey is the context key of the request ID sink.
type requestIDSinkKey struct{}

// WithRequestIDs returns a copy of ctx that carries record: a sink for the
// request IDs of the writes made with that context. The Writer interface
// returns no request ID on success, so a backend that receives one (the AWS
// backend: the x-amzn-RequestId of the response) reports it here with
// RecordRequestID, once per successful call, naming the API operation
// (e.g. "AttachPolicy"). Failed calls carry their request ID in
// APIError.RequestID instead.
//
// The sink is request-scoped data: set it around one step to learn the IDs
// of that step's calls. A sink set on a context that already has one
// replaces it for the calls made with the new context. Backends without
// request IDs (the simulated organization) record nothing. record must be
// safe for concurrent use if the caller makes writes concurrently with the
// returned context.
func WithRequestIDs(ctx context.Context, record func(op, requestID string)) context.Context {
	return context.WithValue(ctx, requestIDSinkKey{}, record)
}

// RecordRequestID reports the request ID of a successful call of operation
// op to the sink ctx carries (see WithRequestIDs). It does nothing when ctx
// has no sink or id is empty.
func RecordRequestID(ctx context.Context, op, id string) {
	if id == "" {
		return
	}
	if record, ok := ctx.Value(requestIDSinkKey{}).(func(op, requestID string)); ok && record != nil {
		record(op, id)
	}
}
