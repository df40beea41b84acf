// Package redisstore keeps the state replicas of the gateway must agree on
// in Redis: automatic persisted queries, upstream responses, idempotency
// records, rate limits, and the subscriptions' pollers (one replica polls
// each watched thing under a lease, the others hear it through pub/sub). Each type implements the interface the gateway
// already uses for its in-memory default, so that one process needs no Redis
// and several replicas behave as one service.
//
// Redis is an accelerator for all of them but idempotency: every call is
// bounded by a short timeout, and while Redis is down or slow the persisted
// queries, the response cache and the rate limit fall back to the replica's
// own memory (one warning per outage, a counter per fallback), while a keyed
// write is refused (idempotency.ErrStoreUnavailable) rather than risked
// twice. A probe notices within a second when Redis is back.
package redisstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// Defaults of Options.
const (
	DefaultPrefix  = "revoxgw:"
	DefaultTimeout = 100 * time.Millisecond
	// ProbeInterval is how often Redis is pinged: how long an outage takes to
	// be noticed when no request calls, and a recovery at most.
	ProbeInterval = time.Second
)

// Components name what falls back, in logs and in the fallbacks metric.
const (
	ComponentAPQ         = "apq"
	ComponentCache       = "cache"
	ComponentRateLimit   = "rate_limit"
	ComponentIdempotency = "idempotency"
	ComponentLengths     = "lengths"
)

// Options configure Open.
type Options struct {
	// URL is redis://[:password@]host:port/db, or rediss:// for TLS (REDIS_URL).
	URL string
	// Prefix starts every key (REDIS_PREFIX). Default "revoxgw:".
	Prefix string
	// Timeout bounds every Redis call, dialing included (REDIS_TIMEOUT).
	// Default 100 ms.
	Timeout time.Duration
	// Logger receives the outage and recovery lines; nil means slog.Default().
	Logger *slog.Logger
	// Registerer receives revoxgw_redis_up and revoxgw_redis_fallbacks_total;
	// nil registers nothing.
	Registerer prometheus.Registerer
}

// Conn is a Redis connection shared by the stores of one process, with the
// state of Redis as this process sees it.
type Conn struct {
	rdb     *redis.Client
	prefix  string
	timeout time.Duration
	logger  *slog.Logger

	up        atomic.Bool
	fallbacks *prometheus.CounterVec
	upGauge   prometheus.Gauge
	mu        sync.Mutex // serialises the up/down transitions and their log lines

	stop chan struct{}
	done chan struct{}
}

// Open parses opts.URL and starts the probe. It does not wait for Redis:
// a gateway starts and serves reads while Redis is down.
func Open(opts Options) (*Conn, error) {
	ro, err := redis.ParseURL(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", redactURLError(err, opts.URL))
	}
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	ro.DialTimeout = opts.Timeout
	ro.ReadTimeout = opts.Timeout
	ro.WriteTimeout = opts.Timeout
	ro.PoolTimeout = opts.Timeout
	ro.ContextTimeoutEnabled = true
	// A failed call falls back at once; retrying it (or its dial) would
	// multiply the timeout a request pays while Redis is down.
	ro.MaxRetries = -1
	ro.DialerRetries = 1
	// No handshake for Redis Enterprise's maintenance notices: one round
	// trip less per new connection.
	ro.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	quietClientLog.Do(func() { redis.SetLogger(clientLog{opts.Logger}) })
	c := &Conn{
		rdb:     redis.NewClient(ro),
		prefix:  opts.Prefix,
		timeout: opts.Timeout,
		logger:  opts.Logger,
		fallbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "revoxgw_redis_fallbacks_total",
			Help: "Operations served without Redis (local memory, or a refused keyed write) because Redis was down or slow, by component.",
		}, []string{"component"}),
		upGauge: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "revoxgw_redis_up",
			Help: "1 while Redis answers this replica, 0 during an outage.",
		}),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	for _, comp := range []string{ComponentAPQ, ComponentCache, ComponentRateLimit, ComponentIdempotency, ComponentLengths} {
		c.fallbacks.WithLabelValues(comp)
	}
	if opts.Registerer != nil {
		if err := opts.Registerer.Register(c.fallbacks); err != nil {
			return nil, err
		}
		if err := opts.Registerer.Register(c.upGauge); err != nil {
			return nil, err
		}
	}
	// Optimistic until the first probe: the first failing call marks it down.
	c.up.Store(true)
	c.upGauge.Set(1)
	go c.probe()
	return c, nil
}

// quietClientLog routes go-redis's own log lines (one per failed dial, each
// second of an outage) to the first Conn's logger at debug level: the outage
// is told once, by markDown.
var quietClientLog sync.Once

type clientLog struct{ logger *slog.Logger }

func (l clientLog) Printf(ctx context.Context, format string, v ...any) {
	l.logger.DebugContext(ctx, "go-redis: "+fmt.Sprintf(format, v...))
}

// redactURLError keeps a password in REDIS_URL out of the error.
func redactURLError(err error, url string) error {
	msg := err.Error()
	if i := strings.Index(url, "@"); i > 0 {
		msg = strings.ReplaceAll(msg, url[:i], "redis://…")
	}
	return errors.New(msg)
}

// Close stops the probe and closes the connections.
func (c *Conn) Close() error {
	close(c.stop)
	<-c.done
	return c.rdb.Close()
}

// Up reports whether Redis answered this replica's last call or probe.
func (c *Conn) Up() bool { return c.up.Load() }

// Status is "up" or "down", for /readyz.
func (c *Conn) Status() string {
	if c.Up() {
		return "up"
	}
	return "down"
}

// Client returns the underlying client, for benchmarks and tests.
func (c *Conn) Client() *redis.Client { return c.rdb }

// key returns the prefixed key of parts, joined by ':'.
func (c *Conn) key(parts ...string) string {
	return c.prefix + strings.Join(parts, ":")
}

// hashed returns the hex SHA-256 of s: keys never hold a credential in clear,
// and their length stays bounded whatever the input.
func hashed(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// errDown is what a call answers while Redis is known to be down, without
// trying it: requests pay no timeout during an outage.
var errDown = errors.New("redisstore: redis is down")

// call runs fn with a context bounded by the timeout, unless Redis is known
// to be down. A failure that is Redis's (not the caller's cancellation, nor
// a missing key) marks Redis down.
func (c *Conn) call(ctx context.Context, fn func(ctx context.Context) error) error {
	if !c.up.Load() {
		return errDown
	}
	cctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	err := fn(cctx)
	if err == nil || errors.Is(err, redis.Nil) {
		return err
	}
	if ctx.Err() == nil {
		c.markDown(err)
	}
	return err
}

// fellBack counts one operation served without Redis.
func (c *Conn) fellBack(component string) {
	c.fallbacks.WithLabelValues(component).Inc()
}

func (c *Conn) markDown(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.up.Load() {
		return
	}
	c.up.Store(false)
	c.upGauge.Set(0)
	c.logger.Warn("redis unavailable: persisted queries, response cache and rate limit use this replica's memory, keyed createCall is refused until it returns",
		"error", err.Error())
}

func (c *Conn) markUp() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.up.Load() {
		return
	}
	c.up.Store(true)
	c.upGauge.Set(1)
	c.logger.Info("redis available again: shared state is back in use")
}

// probe pings Redis every ProbeInterval: it notices an outage while no
// request calls, and the only way back up is through it.
func (c *Conn) probe() {
	defer close(c.done)
	t := time.NewTicker(ProbeInterval)
	defer t.Stop()
	for {
		c.ping()
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
	}
}

func (c *Conn) ping() {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	if err := c.rdb.Ping(ctx).Err(); err != nil {
		c.markDown(err)
		return
	}
	c.markUp()
}
