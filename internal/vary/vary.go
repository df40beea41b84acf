// Package vary writes the Vary response header without repeating a name:
// the gateway's compressor and the playground it serves both say that an
// answer varies with Accept-Encoding, and either may be first.
package vary

import (
	"net/http"
	"strings"
)

// Add adds name to h's Vary header unless it is there already (or Vary is
// "*").
func Add(h http.Header, name string) {
	if !Has(h, name) {
		h.Add("Vary", name)
	}
}

// Has reports whether h's Vary header lists name, case-insensitively, or
// "*".
func Has(h http.Header, name string) bool {
	for _, v := range h.Values("Vary") {
		for part := range strings.SplitSeq(v, ",") {
			if p := strings.TrimSpace(part); p == "*" || strings.EqualFold(p, name) {
				return true
			}
		}
	}
	return false
}
