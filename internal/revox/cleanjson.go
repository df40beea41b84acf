package revox

import (
	"encoding/json"
	"unicode/utf8"
)

// cleanJSON returns raw JSON with what a strict parser rejects replaced the
// way the decoder replaces it in strings: bytes that are not UTF-8 become
// U+FFFD, and so do \u escapes of lone surrogates. The values kept verbatim
// (structured output, metadata, tool arguments, ...) are written to
// clients as they are, and a response labelled UTF-8 must be UTF-8
// everywhere. raw itself is returned when it is clean, as it nearly
// always is.
func cleanJSON(raw json.RawMessage) json.RawMessage {
	if utf8.Valid(raw) && !hasLoneSurrogate(raw) {
		return raw
	}
	out := make([]byte, 0, len(raw)+8)
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c == '\\' && i+1 < len(raw) && raw[i+1] == 'u':
			r, ok := escapedRune(raw[i:])
			if !ok {
				// A lone surrogate, or a malformed escape the decoder
				// would have refused: either way not text.
				out = append(out, `\ufffd`...)
				i += min(6, len(raw)-i)
				continue
			}
			n := 6
			if r > 0xFFFF {
				n = 12
			}
			out = append(out, raw[i:i+n]...)
			i += n
		case c == '\\' && i+1 < len(raw):
			out = append(out, raw[i:i+2]...)
			i += 2
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, n := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && n == 1 {
				out = utf8.AppendRune(out, utf8.RuneError)
			} else {
				out = append(out, raw[i:i+n]...)
			}
			i += n
		}
	}
	return out
}

// hasLoneSurrogate reports whether raw holds a \u escape of a surrogate
// that is not half of a pair (or an escape too short to read).
func hasLoneSurrogate(raw []byte) bool {
	for i := 0; i+1 < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		if raw[i+1] == 'u' {
			r, ok := escapedRune(raw[i:])
			if !ok {
				return true
			}
			if r > 0xFFFF {
				i += 6
			}
		}
		i++ // the escaped character
	}
	return false
}

// escapedRune reads the \uXXXX escape at the start of b, and the low half
// after it when it is a high surrogate. ok is false for a lone surrogate or
// an unreadable escape.
func escapedRune(b []byte) (r rune, ok bool) {
	hi, ok := hex4(b)
	if !ok {
		return 0, false
	}
	switch {
	case hi < 0xD800 || hi > 0xDFFF:
		return hi, true
	case hi >= 0xDC00:
		return 0, false
	}
	lo, ok := hex4(b[6:])
	if !ok || lo < 0xDC00 || lo > 0xDFFF {
		return 0, false
	}
	return 0x10000 + (hi-0xD800)<<10 + (lo - 0xDC00), true
}

// hex4 reads `\uXXXX` at the start of b.
func hex4(b []byte) (rune, bool) {
	if len(b) < 6 || b[0] != '\\' || b[1] != 'u' {
		return 0, false
	}
	var r rune
	for _, c := range b[2:6] {
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// clean makes the attempt's verbatim JSON values valid UTF-8. It runs once,
// when the attempt is decoded, before anyone else sees it.
func (a *CallAttempt) clean() {
	a.StructuredOutput = cleanJSON(a.StructuredOutput)
	if a.Transcript.t != nil {
		for i := range a.Transcript.t.entries {
			e := &a.Transcript.t.entries[i]
			e.ToolArguments = cleanJSON(e.ToolArguments)
		}
	}
}

// clean makes the order's verbatim JSON values valid UTF-8, its attempts'
// included.
func (o *CallOrder) clean() {
	for _, raw := range []*json.RawMessage{&o.Metadata, &o.Assistant, &o.Assignee, &o.Campaign, &o.Contact} {
		*raw = cleanJSON(*raw)
	}
	for i := range o.CallAttempts {
		o.CallAttempts[i].clean()
	}
	if o.LastCallAttempt != nil {
		o.LastCallAttempt.clean()
	}
}
