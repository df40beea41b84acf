package inbound

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
)

// Tokens authenticates static bearer tokens against a list of their SHA-256
// digests (INBOUND_TOKENS_FILE), so the file holds no secret.
type Tokens struct {
	entries []tokenEntry
}

type tokenEntry struct {
	digest [sha256.Size]byte
	scopes []string
}

// maxTokenLines bounds the tokens file.
const maxTokenLines = 10000

// LoadTokens reads a tokens file: one lower- or upper-case hex SHA-256
// digest per line, optionally followed by the scopes it grants (separated by
// spaces; without any, both calls:read and calls:write). Blank lines and
// lines starting with # are skipped. Make a digest with
// `printf %s "$TOKEN" | sha256sum`.
func LoadTokens(path string) (*Tokens, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("inbound tokens: %w", err)
	}
	defer f.Close()
	return ParseTokens(f)
}

// ParseTokens reads the tokens file format of LoadTokens.
func ParseTokens(r io.Reader) (*Tokens, error) {
	t := &Tokens{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if len(t.entries) == maxTokenLines {
			return nil, fmt.Errorf("inbound tokens: more than %d tokens", maxTokenLines)
		}
		fields := strings.Fields(line)
		raw, err := hex.DecodeString(fields[0])
		if err != nil || len(raw) != sha256.Size {
			return nil, fmt.Errorf("inbound tokens: line %d: want a SHA-256 digest as 64 hex digits", n)
		}
		e := tokenEntry{scopes: fields[1:]}
		copy(e.digest[:], raw)
		if len(e.scopes) == 0 {
			e.scopes = []string{ScopeRead, ScopeWrite}
		}
		for _, s := range e.scopes {
			if s != ScopeRead && s != ScopeWrite {
				return nil, fmt.Errorf("inbound tokens: line %d: unknown scope %q (want %s or %s)", n, s, ScopeRead, ScopeWrite)
			}
		}
		t.entries = append(t.entries, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("inbound tokens: %w", err)
	}
	if len(t.entries) == 0 {
		return nil, fmt.Errorf("inbound tokens: no token digest in the file")
	}
	return t, nil
}

// Authenticate implements Authenticator. Every digest is compared, in
// constant time, whichever matches: the time taken says nothing of which.
func (t *Tokens) Authenticate(_ context.Context, r *http.Request) (*Principal, error) {
	token, err := BearerToken(r.Header)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(token))
	match := -1
	for i := range t.entries {
		if subtle.ConstantTimeCompare(sum[:], t.entries[i].digest[:]) == 1 {
			match = i
		}
	}
	if match < 0 {
		return nil, fmt.Errorf("%w: unknown token", ErrInvalid)
	}
	e := t.entries[match]
	return &Principal{Subject: "token:" + hex.EncodeToString(e.digest[:4]), Scopes: e.scopes}, nil
}
