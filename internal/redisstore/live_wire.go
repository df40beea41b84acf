package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/revox-graphql/gateway/internal/live"
	"github.com/revox-graphql/gateway/internal/revox"
)

// message is one poll's outcome as a Key's channel and last message carry
// it: the Snapshot's JSON, or the failure rebuilt on the other replicas
// into an error the gateway gives the same extensions.code.
type message struct {
	Origin string          `json:"o"`
	Value  json.RawMessage `json:"v,omitempty"`
	Final  bool            `json:"f,omitempty"`
	Err    *wireError      `json:"e,omitempty"`
}

// pokeMessage is a Poke of another replica.
type pokeMessage struct {
	Origin  string `json:"o"`
	Field   string `json:"field"`
	Args    string `json:"args"`
	Related string `json:"related,omitempty"`
}

// wireError is an error of the revox client (or a deadline) with what its
// extensions need: the status, the upstream's message, Retry-After.
type wireError struct {
	Kind       string `json:"k"` // api, transport, decode, deadline, other
	Status     int    `json:"s,omitempty"`
	Method     string `json:"m,omitempty"`
	Path       string `json:"p,omitempty"`
	Message    string `json:"msg,omitempty"`
	RetryAfter int64  `json:"ra,omitempty"` // ms
	Timeout    bool   `json:"t,omitempty"`
}

func encodeMessage(origin string, snap live.Snapshot, err error) message {
	if err == nil {
		return message{Origin: origin, Value: snap.JSON, Final: snap.Final}
	}
	return message{Origin: origin, Final: live.IsFinal(err), Err: encodeError(err)}
}

func encodeError(err error) *wireError {
	var (
		apiErr *revox.APIError
		trErr  *revox.TransportError
	)
	switch {
	case errors.As(err, &apiErr):
		return &wireError{Kind: "api", Status: apiErr.StatusCode, Method: apiErr.Method, Path: apiErr.Path, Message: apiErr.Message, RetryAfter: apiErr.RetryAfter.Milliseconds()}
	case errors.As(err, &trErr):
		return &wireError{Kind: "transport", Method: trErr.Method, Path: trErr.Path, Message: trErr.Err.Error(), Timeout: trErr.Timeout}
	case errors.Is(err, revox.ErrBadResponse):
		return &wireError{Kind: "decode", Message: err.Error()}
	case errors.Is(err, context.DeadlineExceeded):
		return &wireError{Kind: "deadline"}
	default:
		return &wireError{Kind: "other", Message: err.Error()}
	}
}

// decode rebuilds the error; its code (not its Go identity) is what
// subscribers see.
func (w *wireError) decode() error {
	switch w.Kind {
	case "api":
		return &revox.APIError{StatusCode: w.Status, Method: w.Method, Path: w.Path, Message: w.Message, RetryAfter: time.Duration(w.RetryAfter) * time.Millisecond}
	case "transport":
		return &revox.TransportError{Method: w.Method, Path: w.Path, Timeout: w.Timeout, Err: errors.New(w.Message)}
	case "decode":
		return &revox.DecodeError{Err: errors.New(w.Message)}
	case "deadline":
		return context.DeadlineExceeded
	default:
		return errors.New(w.Message)
	}
}
