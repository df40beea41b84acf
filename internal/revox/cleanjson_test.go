package revox

import (
	"encoding/json"
	"testing"
)

// TestCleanJSONReplacesWhatIsNotTextAndKeepsTheRest: each kind of damage a
// verbatim value may carry, alone and beside what must be kept byte for
// byte. A bad byte elsewhere in the value (\xff) makes the cleaner walk
// every value below.
func TestCleanJSONReplacesWhatIsNotTextAndKeepsTheRest(t *testing.T) {
	t.Parallel()
	const fffd = "\xef\xbf\xbd" // U+FFFD in UTF-8
	for _, tc := range []struct{ name, in, want string }{
		{"a byte that is not UTF-8 becomes U+FFFD", "\"a\xffb\"", "\"a" + fffd + "b\""},
		{"a truncated sequence becomes U+FFFD and the next character stays", "\"\xe2\x82x\"", "\"" + fffd + fffd + "x\""},
		{"valid UTF-8 beside it is kept", "\"é€😀\xff\"", "\"é€😀" + fffd + "\""},
		{"a lone high surrogate escape becomes \\ufffd", `"\ud800x"`, `"\ufffdx"`},
		{"a lone low surrogate escape becomes \\ufffd", `"\udc00"`, `"\ufffd"`},
		{"a high surrogate before another escape becomes \\ufffd", `"\ud800\u0041"`, `"\ufffd\u0041"`},
		{"a surrogate pair is kept", "\"\\ud83d\\ude00\xff\"", "\"\\ud83d\\ude00" + fffd + "\""},
		{"a BMP escape is kept", "\"\\u00e9\\uFFFF\xff\"", "\"\\u00e9\\uFFFF" + fffd + "\""},
		{"an escaped backslash before u is no escape", "\"\\\\ud800\xff\"", "\"\\\\ud800" + fffd + "\""},
		{"other escapes are kept", "\"\\n\\\"\\/\xff\"", "\"\\n\\\"\\/" + fffd + "\""},
		{"an escape cut short at the end becomes \\ufffd", `"\u12`, `"\ufffd`},
		{"an escape with a non-hex digit becomes \\ufffd", `"\u12g4"`, `"\ufffd"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := string(cleanJSON(json.RawMessage(tc.in))); got != tc.want {
				t.Fatalf("cleanJSON(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
