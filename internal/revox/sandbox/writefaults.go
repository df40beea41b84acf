package sandbox

import (
	"errors"
	"net/http"
	"strconv"
)

// maxQueuedFaults bounds InjectWriteFaults.
const maxQueuedFaults = 1024

// WriteFaultKind is a misbehaviour of the write path.
type WriteFaultKind uint8

const (
	// WriteRateLimited answers 429 with Retry-After before applying: the
	// one failure after which a POST is certainly safe to retry.
	WriteRateLimited WriteFaultKind = iota + 1
	// WriteAnswerLost applies the POST, then closes the connection without
	// an answer.
	WriteAnswerLost
	// WriteAnswerHangs applies the POST, then never answers: the client
	// times out.
	WriteAnswerHangs
)

// WriteFault is one injected fault; RetryAfterSeconds is sent with
// WriteRateLimited.
type WriteFault struct {
	Kind              WriteFaultKind
	RetryAfterSeconds int
}

// ErrTooManyFaults is returned by InjectWriteFaults beyond its bound.
var ErrTooManyFaults = errors.New("sandbox: more than 1024 write faults queued")

// InjectWriteFaults queues faults for the next POST requests of this Server,
// one per request, in order (creates and cancels alike). Requests after the
// queue is empty are served normally.
func (s *Server) InjectWriteFaults(faults ...WriteFault) error {
	ws := &s.writes
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if len(ws.faults)+len(faults) > maxQueuedFaults {
		return ErrTooManyFaults
	}
	ws.faults = append(ws.faults, faults...)
	return nil
}

func (ws *writeState) nextFault() (WriteFault, bool) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if len(ws.faults) == 0 {
		return WriteFault{}, false
	}
	f := ws.faults[0]
	ws.faults = ws.faults[1:]
	if len(ws.faults) == 0 {
		ws.faults = nil
	}
	return f, true
}

// answer sends a write's answer, or the injected fault that replaces it. A
// rate-limit fault is handled before applying, by the caller.
func answer(w http.ResponseWriter, r *http.Request, fault WriteFault, faulty bool, send func()) {
	if !faulty {
		send()
		return
	}
	switch fault.Kind {
	case WriteAnswerHangs:
		<-r.Context().Done()
	default: // WriteAnswerLost
		dropConnection(w)
	}
}

// dropConnection closes the client's connection without an answer: a reset
// after the request was written, as far as the client can tell.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// unanswered is the ResponseWriter of a request whose answer is lost: the
// handler applies the request and writes into the void.
type unanswered struct{ h http.Header }

func (u *unanswered) Header() http.Header         { return u.h }
func (u *unanswered) Write(b []byte) (int, error) { return len(b), nil }
func (u *unanswered) WriteHeader(int)             {}

// rateLimited answers an injected 429 and reports whether it did.
func rateLimited(w http.ResponseWriter, r *http.Request, fault WriteFault, faulty bool) bool {
	if !faulty || fault.Kind != WriteRateLimited {
		return false
	}
	w.Header().Set("Retry-After", strconv.Itoa(max(0, fault.RetryAfterSeconds)))
	writeError(w, r, http.StatusTooManyRequests, "rate limit exceeded")
	return true
}
