package sandbox

import (
	"hash/fnv"
	"net/http"
	"strings"
	"sync/atomic"
)

// Tenants serves a separate dataset per API key, as the real API serves each
// account its own calls. It exists to prove that a gateway forwarding each
// caller's credential never hands one tenant's data to another.
type Tenants struct {
	byKey    map[string]*Server
	requests atomic.Int64
}

// NewTenants makes one sandbox per key, each with its own dataset (seeded
// from the key), sharing the other options.
func NewTenants(keys []string, opts Options) *Tenants {
	t := &Tenants{byKey: make(map[string]*Server, len(keys))}
	for _, k := range keys {
		o := opts
		o.APIKeys = []string{k}
		h := fnv.New64a()
		_, _ = h.Write([]byte(k))
		o.Seed = h.Sum64() | 1
		t.byKey[k] = New(o)
	}
	return t
}

// Server returns the sandbox of one key, nil for an unknown key.
func (t *Tenants) Server(key string) *Server { return t.byKey[key] }

// Requests returns the number of requests received, all tenants together.
func (t *Tenants) Requests() int64 { return t.requests.Load() }

// ServeHTTP routes by Bearer key; an unknown key is 401.
func (t *Tenants) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t.requests.Add(1)
	scheme, key, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if s, ok := t.byKey[strings.TrimSpace(key)]; ok && strings.EqualFold(scheme, "bearer") {
		s.ServeHTTP(w, r)
		return
	}
	w.Header()["Www-Authenticate"] = bearerChallenge
	writeError(w, r, http.StatusUnauthorized, "missing or invalid API key: send Authorization: Bearer <key>")
}
