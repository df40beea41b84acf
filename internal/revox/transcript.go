package revox

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Transcript is an attempt's transcript: its turns, or the error that
// decoding them met (a transcript that cannot be decoded is an error of
// that attempt's transcript fields only). The zero value is an absent (or
// null) transcript. Copies share the turns, which must not be modified.
type Transcript struct{ t *turns }

type turns struct {
	entries []TranscriptEntry
	err     error
}

// NewTranscript is a present transcript of entries (nil: present and
// empty).
func NewTranscript(entries []TranscriptEntry) Transcript {
	if entries == nil {
		entries = []TranscriptEntry{}
	}
	return Transcript{&turns{entries: entries}}
}

// UnmarshalJSON decodes the turns; when they cannot be decoded, the
// transcript holds the error instead and the enclosing document decodes
// on.
func (t *Transcript) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		*t = Transcript{}
		return nil
	}
	var entries []TranscriptEntry
	if err := decodeJSON(b, &entries); err != nil {
		*t = Transcript{&turns{err: fmt.Errorf("%w: transcript: %w", ErrBadResponse, err)}}
		return nil
	}
	*t = NewTranscript(entries)
	return nil
}

// MarshalJSON writes the turns, or null.
func (t Transcript) MarshalJSON() ([]byte, error) {
	if t.t == nil || t.t.err != nil {
		return []byte("null"), nil
	}
	return json.Marshal(t.t.entries)
}

// Present reports whether the upstream sent a transcript (not null).
func (t Transcript) Present() bool { return t.t != nil }

// Turns returns the turns: nil for an absent transcript, an
// ErrBadResponse for one that could not be decoded.
func (t Transcript) Turns() ([]TranscriptEntry, error) {
	if t.t == nil {
		return nil, nil
	}
	return t.t.entries, t.t.err
}

// Len is the number of turns.
func (t Transcript) Len() (int, error) {
	entries, err := t.Turns()
	return len(entries), err
}
