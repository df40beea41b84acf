package revox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
)

// Transcript is an attempt's transcript. A list page is decoded with its
// transcripts unless the caller said it will not read them
// (WithoutTranscripts); they are then kept as the upstream sent them and
// decoded on first use, the attempts of one response together, in one
// pass: a request that selects no transcript field does not pay for
// decoding them, and they are most of a page's bytes (go run ./bench, row
// (d)). A page fetched for such a request can be shared, through
// coalescing and the cache, with one that reads them: it decodes them then.
//
// A transcript decoded late that cannot be decoded is an error of that
// attempt's transcript fields only. The zero value is an absent (or null)
// transcript. Copies share the decoded turns, which must not be modified.
type Transcript struct{ l *lazyTurns }

type transcriptsHint struct{}

// WithoutTranscripts tells ListCalls that the caller will not read the
// transcripts of the attempts it asks for.
func WithoutTranscripts(ctx context.Context) context.Context {
	return context.WithValue(ctx, transcriptsHint{}, true)
}

// TranscriptsWanted is false in a context made by WithoutTranscripts.
func TranscriptsWanted(ctx context.Context) bool {
	without, _ := ctx.Value(transcriptsHint{}).(bool)
	return !without
}

type lazyTurns struct {
	raw   []byte
	group *turnGroup // set once, before the attempt is shared; nil: alone
	once  sync.Once  // when alone
	turns []TranscriptEntry
	err   error
}

// turnGroup is the transcripts of one response.
type turnGroup struct {
	once    sync.Once
	members []*lazyTurns
}

// NewTranscript is a present transcript of turns (nil turns: present and
// empty).
func NewTranscript(turns []TranscriptEntry) Transcript {
	if turns == nil {
		turns = []TranscriptEntry{}
	}
	l := &lazyTurns{turns: turns}
	l.once.Do(func() {})
	return Transcript{l}
}

// UnmarshalJSON keeps the value for later: only its syntax is checked now,
// by the decoder of the enclosing document.
func (t *Transcript) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		*t = Transcript{}
		return nil
	}
	// The decoder hands over a copy of its own (goccy/go-json copies what
	// an Unmarshaler gets; encoding/json's contract asks the receiver to).
	*t = Transcript{&lazyTurns{raw: bytes.Clone(b)}}
	return nil
}

// MarshalJSON writes the transcript as received (or its turns, or null).
func (t Transcript) MarshalJSON() ([]byte, error) {
	switch {
	case t.l == nil:
		return []byte("null"), nil
	case t.l.raw != nil:
		return t.l.raw, nil
	}
	return json.Marshal(t.l.turns)
}

// Present reports whether the upstream sent a transcript (not null).
func (t Transcript) Present() bool { return t.l != nil }

// Turns decodes the transcript (once; the attempts of one response
// together) and returns its turns: nil for an absent transcript.
func (t Transcript) Turns() ([]TranscriptEntry, error) {
	l := t.l
	if l == nil {
		return nil, nil
	}
	if g := l.group; g != nil {
		g.once.Do(g.decode)
	} else {
		l.once.Do(l.decode)
	}
	return l.turns, l.err
}

// Len is the number of turns, decoding them if needed.
func (t Transcript) Len() (int, error) {
	turns, err := t.Turns()
	return len(turns), err
}

func (l *lazyTurns) decode() {
	var turns []TranscriptEntry
	if err := decodeJSON(l.raw, &turns); err != nil {
		l.err = fmt.Errorf("%w: transcript: %w", ErrBadResponse, err)
		return
	}
	if turns == nil {
		turns = []TranscriptEntry{}
	}
	l.turns = turns
}

// decode decodes every member in one pass over their concatenation; if that
// fails, each member alone, so that one bad transcript costs only itself.
func (g *turnGroup) decode() {
	n := 2
	for _, m := range g.members {
		n += len(m.raw) + 1
	}
	all := make([]byte, 0, n)
	all = append(all, '[')
	for i, m := range g.members {
		if i > 0 {
			all = append(all, ',')
		}
		all = append(all, m.raw...)
	}
	all = append(all, ']')
	var turns [][]TranscriptEntry
	if err := decodeJSON(all, &turns); err == nil && len(turns) == len(g.members) {
		for i, m := range g.members {
			if turns[i] == nil {
				turns[i] = []TranscriptEntry{}
			}
			m.turns = turns[i]
		}
		return
	}
	for _, m := range g.members {
		m.decode()
	}
}

// groupTranscripts makes the transcripts of attempts decode together. It
// must run before the attempts are shared.
func groupTranscripts(attempts ...*CallAttempt) {
	var g *turnGroup
	for _, a := range attempts {
		l := a.Transcript.l
		if l == nil || l.raw == nil || l.group != nil {
			continue
		}
		if g == nil {
			g = &turnGroup{}
		}
		l.group = g
		g.members = append(g.members, l)
	}
}
