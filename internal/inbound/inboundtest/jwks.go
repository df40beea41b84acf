// Package inboundtest serves a JWKS and signs JWTs with its keys, for tests
// of INBOUND_AUTH=jwt.
package inboundtest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// Issuer and Audience are what Valid puts in a token.
const (
	Issuer   = "https://issuer.test/"
	Audience = "revox-gateway"
)

// JWKS serves the public keys of its signers at URL; Rotate swaps them.
type JWKS struct {
	URL     string
	Fetches atomic.Int32

	mu   sync.Mutex
	keys map[string]*rsa.PrivateKey
}

// NewJWKS serves a JWKS with a key per kid until the test ends.
func NewJWKS(t testing.TB, kids ...string) *JWKS {
	t.Helper()
	j := &JWKS{}
	j.Rotate(t, kids...)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		j.Fetches.Add(1)
		j.mu.Lock()
		defer j.mu.Unlock()
		set := jwk.NewSet()
		for kid, k := range j.keys {
			pub, err := jwk.Import(&k.PublicKey)
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			_ = pub.Set(jwk.KeyIDKey, kid)
			_ = pub.Set(jwk.AlgorithmKey, jwa.RS256())
			_ = set.AddKey(pub)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(srv.Close)
	j.URL = srv.URL
	return j
}

// Rotate replaces every key by a new one per kid.
func (j *JWKS) Rotate(t testing.TB, kids ...string) {
	t.Helper()
	keys := make(map[string]*rsa.PrivateKey, len(kids))
	for _, kid := range kids {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		keys[kid] = k
	}
	j.mu.Lock()
	j.keys = keys
	j.mu.Unlock()
}

// Sign makes a token built by build, signed by kid's key, or by a key of
// no JWKS when kid is not one of them.
func (j *JWKS) Sign(t testing.TB, kid string, build func(*jwt.Builder) *jwt.Builder) string {
	t.Helper()
	j.mu.Lock()
	k, ok := j.keys[kid]
	j.mu.Unlock()
	if !ok {
		var err error
		if k, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			t.Fatal(err)
		}
	}
	tok, err := build(jwt.NewBuilder()).Build()
	if err != nil {
		t.Fatal(err)
	}
	priv, err := jwk.Import(k)
	if err != nil {
		t.Fatal(err)
	}
	_ = priv.Set(jwk.KeyIDKey, kid)
	b, err := jwt.Sign(tok, jwt.WithKey(jwa.RS256(), priv))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Valid builds a token of Issuer for Audience, subject agent-7, valid an
// hour, with the given scopes.
func Valid(scopes string) func(*jwt.Builder) *jwt.Builder {
	return func(b *jwt.Builder) *jwt.Builder {
		return b.Issuer(Issuer).Audience([]string{Audience}).Subject("agent-7").
			Expiration(time.Now().Add(time.Hour)).Claim("scope", scopes)
	}
}
