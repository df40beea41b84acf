package inbound

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/lestrrat-go/httprc/v3"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// JWTConfig configures JWT authentication (INBOUND_AUTH=jwt).
type JWTConfig struct {
	JWKSURL  string // JWT_JWKS_URL
	Issuer   string // JWT_ISSUER: the iss every token must carry
	Audience string // JWT_AUDIENCE: one of the token's aud values
	// HTTPClient fetches the JWKS; nil means jwx's default (timeouts, no
	// redirects across schemes).
	HTTPClient *http.Client
	// Refresh bounds how often the key set is fetched again: at least
	// every Refresh (default 15 min), and on a token signed by an unknown
	// key id at most once per Refresh/15 (a rotation is picked up at once,
	// a flood of made-up key ids costs the JWKS host nothing).
	Refresh time.Duration
	// StartTimeout bounds the first fetch of the key set (default 10 s).
	StartTimeout time.Duration
	// Now is the clock tokens are validated against (tests); nil is
	// time.Now.
	Now func() time.Time
}

// JWT authenticates bearer JWTs signed by a key of a JWKS, checking
// signature, exp/nbf (30 s skew), iss and aud. The scopes come from the
// `scope` claim (space-separated, OAuth 2) or `scp` (a list or a string).
type JWT struct {
	cfg   JWTConfig
	cache *jwk.Cache
	set   jwk.Set

	mu          sync.Mutex
	lastRefresh time.Time
}

// NewJWT registers the JWKS and fetches it once: a gateway that cannot read
// its keys fails at start-up rather than refusing every caller later. ctx
// bounds the cache's background refreshes: cancel it at shutdown.
func NewJWT(ctx context.Context, cfg JWTConfig) (*JWT, error) {
	if cfg.JWKSURL == "" || cfg.Issuer == "" || cfg.Audience == "" {
		return nil, errors.New("inbound jwt: JWT_JWKS_URL, JWT_ISSUER and JWT_AUDIENCE are all required")
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = 15 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cache, err := jwk.NewCache(ctx, httprc.NewClient())
	if err != nil {
		return nil, fmt.Errorf("inbound jwt: %w", err)
	}
	opts := []jwk.RegisterOption{jwk.WithMaxInterval(cfg.Refresh), jwk.WithMinInterval(min(cfg.Refresh, time.Minute))}
	if cfg.HTTPClient != nil {
		opts = append(opts, jwk.WithHTTPClient(cfg.HTTPClient))
	}
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = 10 * time.Second
	}
	regCtx, cancel := context.WithTimeout(ctx, cfg.StartTimeout)
	defer cancel()
	if err := cache.Register(regCtx, cfg.JWKSURL, opts...); err != nil {
		return nil, fmt.Errorf("inbound jwt: fetching JWT_JWKS_URL: %w", err)
	}
	set, err := cache.CachedSet(cfg.JWKSURL)
	if err != nil {
		return nil, fmt.Errorf("inbound jwt: %w", err)
	}
	return &JWT{cfg: cfg, cache: cache, set: set, lastRefresh: cfg.Now()}, nil
}

type clockFunc func() time.Time

func (f clockFunc) Now() time.Time { return f() }

// Authenticate implements Authenticator.
func (j *JWT) Authenticate(ctx context.Context, r *http.Request) (*Principal, error) {
	raw, err := BearerToken(r.Header)
	if err != nil {
		return nil, err
	}
	tok, err := j.parse(raw)
	if err != nil && j.refreshForUnknownKey(ctx) {
		tok, err = j.parse(raw)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrInvalid, firstLine(err.Error()))
	}
	p := &Principal{Scopes: scopesOf(tok)}
	p.Subject, _ = tok.Subject()
	if p.Subject == "" {
		p.Subject = "jwt"
	}
	return p, nil
}

func (j *JWT) parse(raw string) (jwt.Token, error) {
	return jwt.ParseString(raw,
		jwt.WithKeySet(j.set),
		jwt.WithValidate(true),
		jwt.WithIssuer(j.cfg.Issuer),
		jwt.WithAudience(j.cfg.Audience),
		jwt.WithAcceptableSkew(30*time.Second),
		jwt.WithClock(clockFunc(j.cfg.Now)),
	)
}

// refreshForUnknownKey fetches the key set again when the last fetch is old
// enough, reporting whether it did: a token that failed may be signed by a
// key rotated in since.
func (j *JWT) refreshForUnknownKey(ctx context.Context) bool {
	j.mu.Lock()
	now := j.cfg.Now()
	if now.Sub(j.lastRefresh) < j.cfg.Refresh/15 {
		j.mu.Unlock()
		return false
	}
	j.lastRefresh = now
	j.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err := j.cache.Refresh(ctx, j.cfg.JWKSURL)
	return err == nil
}

func scopesOf(tok jwt.Token) []string {
	var scope string
	if err := tok.Get("scope", &scope); err == nil {
		return strings.Fields(scope)
	}
	var list []string
	if err := tok.Get("scp", &list); err == nil {
		return list
	}
	var anyList []any
	if err := tok.Get("scp", &anyList); err == nil {
		out := make([]string, 0, len(anyList))
		for _, v := range anyList {
			if s, ok := v.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	if err := tok.Get("scp", &scope); err == nil {
		return strings.Fields(scope)
	}
	return nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}
