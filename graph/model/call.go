package model

import (
	"github.com/revox-graphql/gateway/internal/revox"
)

// CallAttempt is the GraphQL view of revox.CallAttempt. It is defined on the
// same struct, so a pointer into a decoded upstream page converts for free
// and every plain field is read straight from the decoded data.
type CallAttempt revox.CallAttempt

// StatusRaw is the upstream's spelling of Status.
func (a *CallAttempt) StatusRaw() string { return string(a.Status) }

// ResultRaw is the upstream's spelling of Result.
func (a *CallAttempt) ResultRaw() *string { return (*string)(a.Result) }

// DialErrorRaw is the upstream's spelling of DialError.
func (a *CallAttempt) DialErrorRaw() *string { return (*string)(a.DialError) }

// EndedByRaw is the upstream's spelling of EndedBy.
func (a *CallAttempt) EndedByRaw() *string { return (*string)(a.EndedBy) }

// DurationSeconds is the talk time from answer to end, nil unless both are
// known and in order.
func (a *CallAttempt) DurationSeconds() *float64 {
	if a.AnsweredAt.IsZero() || a.EndedAt.IsZero() || a.EndedAt.Before(a.AnsweredAt.Time) {
		return nil
	}
	d := a.EndedAt.Sub(a.AnsweredAt.Time).Seconds()
	return &d
}

// TranscriptLength is the number of transcript turns of all roles.
func (a *CallAttempt) TranscriptLength() (int, error) { return a.Transcript.Len() }

// TranscriptTurns returns the turns of the given roles (all when empty),
// then only the first or the last n of them. Nil means the upstream sent no
// transcript.
func (a *CallAttempt) TranscriptTurns(roles []revox.Role, first, last *int) ([]*TranscriptEntry, error) {
	if first != nil && last != nil {
		return nil, &InputError{Argument: "transcript", Message: "first and last cannot be combined"}
	}
	if first != nil && *first < 0 {
		return nil, &InputError{Argument: "first", Message: "must not be negative"}
	}
	if last != nil && *last < 0 {
		return nil, &InputError{Argument: "last", Message: "must not be negative"}
	}
	if !a.Transcript.Present() {
		return nil, nil
	}
	turns, err := a.Transcript.Turns()
	if err != nil {
		return nil, err
	}
	var keep []int
	if len(roles) > 0 {
		keep = make([]int, 0, len(turns))
		for i := range turns {
			for _, r := range roles {
				if turns[i].Role == r {
					keep = append(keep, i)
					break
				}
			}
		}
	}
	n := len(turns)
	if keep != nil {
		n = len(keep)
	}
	lo, hi := 0, n
	if first != nil && *first < n {
		hi = *first
	}
	if last != nil && *last < n {
		lo = n - *last
	}
	out := make([]*TranscriptEntry, 0, hi-lo)
	for j := lo; j < hi; j++ {
		i := j
		if keep != nil {
			i = keep[j]
		}
		out = append(out, (*TranscriptEntry)(&turns[i]))
	}
	return out, nil
}

// TranscriptEntry is the GraphQL view of revox.TranscriptEntry.
type TranscriptEntry revox.TranscriptEntry

// RoleRaw is the upstream's spelling of Role.
func (e *TranscriptEntry) RoleRaw() string { return string(e.Role) }

// Call is the GraphQL view of revox.CallOrder.
type Call revox.CallOrder

// StatusRaw is the upstream's spelling of Status.
func (c *Call) StatusRaw() *string { return (*string)(c.Status) }

// DirectionRaw is the upstream's spelling of Direction.
func (c *Call) DirectionRaw() string { return string(c.Direction) }

// LastAttempt is the most recent attempt, nil before the first dial.
func (c *Call) LastAttempt() *CallAttempt { return (*CallAttempt)(c.LastCallAttempt) }

// Attempts are all attempts, most recent first.
func (c *Call) Attempts() []*CallAttempt {
	out := make([]*CallAttempt, len(c.CallAttempts))
	for i := range c.CallAttempts {
		out[i] = (*CallAttempt)(&c.CallAttempts[i])
	}
	return out
}
