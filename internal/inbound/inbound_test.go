package inbound

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/revox-graphql/gateway/internal/inbound/inboundtest"
)

func request(auth string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/query", nil)
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	return r
}

func digest(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func TestTokens(t *testing.T) {
	t.Parallel()
	file := "# gateway callers\n\n" + digest("reader-token") + " calls:read\n" + strings.ToUpper(digest("admin-token")) + "\n"
	tokens, err := ParseTokens(strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, auth string
		scopes     []string
		err        error
	}{
		{"a listed token with a scope gets that scope alone", "Bearer reader-token", []string{ScopeRead}, nil},
		{"a listed token without scopes gets both", "bearer admin-token", []string{ScopeRead, ScopeWrite}, nil},
		{"an unlisted token is invalid", "Bearer someone-else", nil, ErrInvalid},
		{"a digest sent as the token is invalid", "Bearer " + digest("admin-token"), nil, ErrInvalid},
		{"no header is missing", "", nil, ErrMissing},
		{"another scheme is invalid", "Basic YWRtaW4tdG9rZW4=", nil, ErrInvalid},
		{"an empty bearer is invalid", "Bearer ", nil, ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := tokens.Authenticate(t.Context(), request(tc.auth))
			if tc.err != nil {
				if !errors.Is(err, tc.err) || p != nil {
					t.Fatalf("got %v, %v; want %v", p, err, tc.err)
				}
				if strings.Contains(err.Error(), "someone-else") {
					t.Fatalf("error %q echoes the token", err)
				}
				return
			}
			if err != nil || !slices.Equal(p.Scopes, tc.scopes) {
				t.Fatalf("got %+v, %v; want scopes %v", p, err, tc.scopes)
			}
			if strings.Contains(p.Subject, "token:") == false || strings.Contains(p.Subject, "admin") {
				t.Fatalf("subject %q: want a digest prefix, never the token", p.Subject)
			}
		})
	}
}

func TestParseTokensRefusesBadFiles(t *testing.T) {
	t.Parallel()
	for name, file := range map[string]string{
		"not hex":         "not-a-digest\n",
		"short digest":    "abcd\n",
		"unknown scope":   digest("x") + " calls:admin\n",
		"no token at all": "# nothing\n\n",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := ParseTokens(strings.NewReader(file)); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestPrincipalHas(t *testing.T) {
	t.Parallel()
	var none *Principal
	p := &Principal{Scopes: []string{ScopeRead}}
	if none.Has(ScopeRead) || !p.Has(ScopeRead) || p.Has(ScopeWrite) {
		t.Fatal("Has answers wrongly")
	}
	ctx := WithPrincipal(t.Context(), p)
	if PrincipalFrom(ctx) != p || PrincipalFrom(t.Context()) != nil {
		t.Fatal("context round trip failed")
	}
}

func valid(b *jwt.Builder) *jwt.Builder {
	return inboundtest.Valid("calls:read calls:write")(b)
}

func TestJWT(t *testing.T) {
	t.Parallel()
	keys := inboundtest.NewJWKS(t, "k1")
	auth, err := NewJWT(t.Context(), JWTConfig{JWKSURL: keys.URL, Issuer: inboundtest.Issuer, Audience: inboundtest.Audience})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		token  string
		scopes []string
		err    error
	}{
		{"a valid token gives its subject and scopes", keys.Sign(t, "k1", valid), []string{ScopeRead, ScopeWrite}, nil},
		{"scopes as an scp list are read", keys.Sign(t, "k1", func(b *jwt.Builder) *jwt.Builder {
			return valid(b).Claim("scope", nil).Claim("scp", []string{ScopeRead})
		}), []string{ScopeRead}, nil},
		{"a token without scopes has none", keys.Sign(t, "k1", func(b *jwt.Builder) *jwt.Builder {
			return b.Issuer(inboundtest.Issuer).Audience([]string{"revox-gateway"}).Expiration(time.Now().Add(time.Hour))
		}), nil, nil},
		{"another issuer is invalid", keys.Sign(t, "k1", func(b *jwt.Builder) *jwt.Builder {
			return valid(b).Issuer("https://evil.test/")
		}), nil, ErrInvalid},
		{"another audience is invalid", keys.Sign(t, "k1", func(b *jwt.Builder) *jwt.Builder {
			return valid(b).Audience([]string{"someone-else"})
		}), nil, ErrInvalid},
		{"an expired token is invalid", keys.Sign(t, "k1", func(b *jwt.Builder) *jwt.Builder {
			return valid(b).Expiration(time.Now().Add(-time.Hour))
		}), nil, ErrInvalid},
		{"a token signed by a key of no JWKS is invalid", keys.Sign(t, "stranger", valid), nil, ErrInvalid},
		{"garbage is invalid", "not.a.jwt", nil, ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := auth.Authenticate(t.Context(), request("Bearer "+tc.token))
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("got %+v, %v; want %v", p, err, tc.err)
				}
				return
			}
			if err != nil || !slices.Equal(p.Scopes, tc.scopes) {
				t.Fatalf("got %+v, %v; want scopes %v", p, err, tc.scopes)
			}
		})
	}
	if _, err := auth.Authenticate(t.Context(), request("")); !errors.Is(err, ErrMissing) {
		t.Fatalf("no header: %v, want ErrMissing", err)
	}
}

func TestJWTPicksUpARotatedKeyAtOnceButNotOnEveryUnknownKey(t *testing.T) {
	t.Parallel()
	keys := inboundtest.NewJWKS(t, "old")
	now := time.Now()
	var clock atomic.Int64
	clock.Store(now.UnixNano())
	auth, err := NewJWT(context.Background(), JWTConfig{
		JWKSURL: keys.URL, Issuer: inboundtest.Issuer, Audience: inboundtest.Audience,
		Refresh: 15 * time.Minute,
		Now:     func() time.Time { return time.Unix(0, clock.Load()) },
	})
	if err != nil {
		t.Fatal(err)
	}
	fetched := keys.Fetches.Load()
	// Strangers' tokens right after a fetch do not make the gateway fetch again.
	for range 5 {
		if _, err := auth.Authenticate(t.Context(), request("Bearer "+keys.Sign(t, "stranger", valid))); !errors.Is(err, ErrInvalid) {
			t.Fatalf("stranger: %v", err)
		}
	}
	if got := keys.Fetches.Load(); got != fetched {
		t.Fatalf("unknown key ids made %d fetches within a minute of the last, want 0", got-fetched)
	}
	keys.Rotate(t, "new")
	clock.Add(int64(2 * time.Minute))
	if p, err := auth.Authenticate(t.Context(), request("Bearer "+keys.Sign(t, "new", valid))); err != nil || p.Subject != "agent-7" {
		t.Fatalf("token of the rotated-in key: %+v, %v", p, err)
	}
}

func TestNewJWTNeedsEverySetting(t *testing.T) {
	t.Parallel()
	if _, err := NewJWT(t.Context(), JWTConfig{JWKSURL: "http://127.0.0.1:1/jwks"}); err == nil {
		t.Fatal("accepted a config without issuer and audience")
	}
	if _, err := NewJWT(t.Context(), JWTConfig{JWKSURL: "http://127.0.0.1:1/jwks", Issuer: "i", Audience: "a", StartTimeout: 300 * time.Millisecond}); err == nil {
		t.Fatal("accepted an unreachable JWKS")
	}
}
