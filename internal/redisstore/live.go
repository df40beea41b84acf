package redisstore

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/revox-graphql/gateway/internal/live"
)

// ComponentLive names the subscription pollers in the fallbacks metric.
const ComponentLive = "live"

// LiveRegistry is the live.Registry of replicas sharing one Redis: for each
// Key with subscribers here, the replica competes for a lease in Redis
// (renewed every half interval, expiring after one and a half, so that a
// dead holder is replaced within two intervals); the holder polls with a
// live.Memory poller (interval, backoff, poll timeout and Poke as in one
// process) and publishes each outcome on the Key's channel and as the Key's
// last message (for a new subscriber at once); every replica delivers what
// its channel carries to its own subscribers, decoded by their
// live.Decoder. While Redis is down every replica polls its own Keys, and
// shares them again once Redis is back.
type LiveRegistry struct {
	conn   *Conn
	opts   live.MemoryOptions
	local  *live.Memory // the polls made here: leased Keys, and every Key while Redis is down
	origin string       // this replica's id in messages
	ps     *redis.PubSub
	tick   time.Duration // between two lease attempts
	ttl    time.Duration // of a lease
	keep   time.Duration // of a last message

	psMu sync.Mutex // orders SUBSCRIBE and UNSUBSCRIBE of one channel

	mu      sync.Mutex
	keys    map[live.Key]*liveKey
	byChan  map[string]*liveKey
	subs    int
	closed  bool
	outage  bool // the current outage was told
	crashed bool // tests: stop without releasing the leases
	running sync.WaitGroup
	loop    chan struct{} // closed when the dispatcher ends
}

var _ live.Registry = (*LiveRegistry)(nil)

// liveKey is one Key with subscribers on this replica.
type liveKey struct {
	key                  live.Key
	poll                 live.Poll
	channel, lease, last string
	token                string
	decoder              live.Decoder // nil: the Key is polled here, never leased
	stop                 chan struct{}
	attached             bool // to its channel; run's goroutine only

	// Guarded by LiveRegistry.mu.
	subs     map[*liveSub]struct{}
	has      bool
	digest   [32]byte
	value    any
	failed   error
	done     bool
	polling  func() // leaves the local poller; nil when not polling here
	fellBack bool   // polling here because Redis is down
}

type liveSub struct {
	sub live.Subscriber
	k   *liveKey
}

// NewLiveRegistry returns the shared registry over conn; opts are those of
// the local pollers (POLL_INTERVAL, MAX_SUBSCRIPTIONS). Shutdown stops it.
func NewLiveRegistry(conn *Conn, opts live.MemoryOptions) *LiveRegistry {
	if opts.Interval <= 0 {
		opts.Interval = live.DefaultInterval
	}
	if opts.MaxSubscriptions <= 0 {
		opts.MaxSubscriptions = live.DefaultMaxSubscriptions
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = live.DefaultMaxBackoff
	}
	if opts.Logger == nil {
		opts.Logger = conn.logger
	}
	local := live.NewMemory(opts)
	var id [8]byte
	_, _ = rand.Read(id[:])
	r := &LiveRegistry{
		conn:   conn,
		opts:   opts,
		local:  local,
		origin: hex.EncodeToString(id[:]),
		ps:     conn.rdb.Subscribe(context.Background()),
		tick:   opts.Interval / 2,
		ttl:    opts.Interval * 3 / 2,
		// A failing holder publishes at most every MaxBackoff.
		keep:   max(opts.MaxBackoff, opts.Interval) + 2*opts.Interval,
		keys:   map[live.Key]*liveKey{},
		byChan: map[string]*liveKey{},
		loop:   make(chan struct{}),
	}
	conn.fallbacks.WithLabelValues(ComponentLive)
	r.psMu.Lock()
	ctx, cancel := context.WithTimeout(context.Background(), conn.timeout)
	// Remembered by the client even when Redis is down: it subscribes again
	// on reconnection.
	_ = r.ps.Subscribe(ctx, r.pokeChannel())
	cancel()
	r.psMu.Unlock()
	go r.dispatch()
	return r
}

func (r *LiveRegistry) pokeChannel() string { return r.conn.key("live", "poke") }

// Subscribe implements live.Registry.
func (r *LiveRegistry) Subscribe(key live.Key, poll live.Poll, sub live.Subscriber) (func(), error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, live.ErrShuttingDown
	}
	if r.subs >= r.opts.MaxSubscriptions {
		return nil, live.ErrTooManySubscriptions
	}
	k := r.keys[key]
	if k == nil {
		// Keys name a credential by a hash already; hashed again, with the
		// field and arguments, they stay bounded in length.
		h := hashed(key.Credential + "\x00" + key.Field + "\x00" + key.Args)
		var token [16]byte
		_, _ = rand.Read(token[:])
		k = &liveKey{
			key: key, poll: poll,
			channel: r.conn.key("live", "ch", h), lease: r.conn.key("live", "lease", h), last: r.conn.key("live", "last", h),
			token: hex.EncodeToString(token[:]),
			stop:  make(chan struct{}),
			subs:  map[*liveSub]struct{}{},
		}
		k.decoder, _ = sub.(live.Decoder)
		r.keys[key], r.byChan[k.channel] = k, k
		r.running.Add(1)
		go r.run(k)
	}
	s := &liveSub{sub: sub, k: k}
	k.subs[s] = struct{}{}
	r.subs++
	switch {
	case k.failed != nil:
		sub.Send(live.Update{Err: k.failed})
	case k.has:
		sub.Send(live.Update{Value: k.value})
	}
	return func() { r.unsubscribe(s) }, nil
}

func (r *LiveRegistry) unsubscribe(s *liveSub) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := s.k
	if _, ok := k.subs[s]; !ok {
		return
	}
	delete(k.subs, s)
	r.subs--
	if len(k.subs) == 0 {
		r.retire(k)
	}
}

// retire stops polling k here and ends its lease loop; r.mu is held.
func (r *LiveRegistry) retire(k *liveKey) {
	if k.done {
		return
	}
	k.done = true
	r.stopPolling(k)
	close(k.stop)
	if r.keys[k.key] == k {
		delete(r.keys, k.key)
		delete(r.byChan, k.channel)
	}
}

// finish completes every subscriber of k and retires it; r.mu is held.
func (r *LiveRegistry) finish(k *liveKey) {
	for s := range k.subs {
		s.sub.Close()
		delete(k.subs, s)
		r.subs--
	}
	r.retire(k)
}

// Poke implements live.Registry: the pollers of this replica poll now, and
// the message makes those of the others do so.
func (r *LiveRegistry) Poke(field, args, related string) {
	r.local.Poke(field, args, related)
	msg, _ := json.Marshal(pokeMessage{Origin: r.origin, Field: field, Args: args, Related: related})
	_ = r.conn.call(context.Background(), func(ctx context.Context) error {
		return r.conn.rdb.Publish(ctx, r.pokeChannel(), msg).Err()
	})
}

// Stats implements live.Registry: Pollers counts the polls made here.
func (r *LiveRegistry) Stats() live.Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return live.Stats{Pollers: r.local.Stats().Pollers, Subscriptions: r.subs}
}

// Shutdown implements live.Registry. The leases held here are released, so
// that the other replicas' subscribers are polled for at their next tick.
func (r *LiveRegistry) Shutdown(ctx context.Context) error {
	r.mu.Lock()
	r.closed = true
	for _, k := range r.keys {
		r.finish(k)
	}
	r.mu.Unlock()
	done := make(chan struct{})
	go func() { r.running.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if lerr := r.local.Shutdown(ctx); err == nil {
		err = lerr
	}
	_ = r.ps.Close()
	select {
	case <-r.loop:
	case <-ctx.Done():
		err = ctx.Err()
	}
	return err
}

// run is k's lease loop, until k is retired.
func (r *LiveRegistry) run(k *liveKey) {
	defer r.running.Done()
	r.attach(k)
	t := time.NewTicker(r.tick)
	defer t.Stop()
	for {
		r.lease(k)
		select {
		case <-k.stop:
			r.detach(k)
			return
		case <-t.C:
		}
	}
}

// attach subscribes to k's channel, then delivers its last message. While
// Redis is down it waits: the lease loop attaches once Redis answers.
func (r *LiveRegistry) attach(k *liveKey) {
	if k.decoder == nil || k.attached || !r.conn.Up() {
		return
	}
	k.attached = true
	r.psMu.Lock()
	ctx, cancel := context.WithTimeout(context.Background(), r.conn.timeout)
	// Remembered by the client even when the call fails: it subscribes
	// again on reconnection.
	_ = r.ps.Subscribe(ctx, k.channel)
	cancel()
	r.psMu.Unlock()
	var last []byte
	err := r.conn.call(context.Background(), func(ctx context.Context) (err error) {
		last, err = r.conn.rdb.Get(ctx, k.last).Bytes()
		return err
	})
	if err == nil {
		r.receive(k.channel, last)
	}
}

// detach releases k's lease when held and leaves its channel unless a new
// Key of the same channel joined meanwhile.
func (r *LiveRegistry) detach(k *liveKey) {
	r.mu.Lock()
	crashed := r.crashed
	r.mu.Unlock()
	if k.decoder == nil || crashed {
		return
	}
	_ = r.conn.call(context.Background(), func(ctx context.Context) error {
		return leaseReleaseScript.Run(ctx, r.conn.rdb, []string{k.lease}, k.token).Err()
	})
	r.psMu.Lock()
	defer r.psMu.Unlock()
	r.mu.Lock()
	_, again := r.byChan[k.channel]
	r.mu.Unlock()
	if !again {
		timeout := r.conn.timeout
		if !r.conn.Up() {
			timeout = 0 // forget the channel without waiting for Redis
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		_ = r.ps.Unsubscribe(ctx, k.channel)
		cancel()
	}
}

// share wraps k's poll: each outcome is delivered here and published.
func (r *LiveRegistry) share(k *liveKey) live.Poll {
	return func(ctx context.Context) (live.Snapshot, error) {
		snap, err := k.poll(ctx)
		if err != nil && context.Cause(ctx) == context.Canceled {
			return snap, err // stopped here: no one to tell
		}
		msg := encodeMessage(r.origin, snap, err)
		r.mu.Lock()
		r.deliver(k, msg, snap.Value)
		r.mu.Unlock()
		if k.decoder != nil {
			data, _ := json.Marshal(msg)
			_ = r.conn.call(context.Background(), func(ctx context.Context) error {
				pipe := r.conn.rdb.Pipeline()
				if msg.Err == nil || !msg.Final {
					// A final error (an unknown id) is not kept: the id
					// may exist by the next subscription.
					pipe.Set(ctx, k.last, data, r.keep)
				}
				pipe.Publish(ctx, k.channel, data)
				_, err := pipe.Exec(ctx)
				return err
			})
		}
		return snap, err
	}
}

// dispatch hands each message of the channels to its Key.
func (r *LiveRegistry) dispatch() {
	defer close(r.loop)
	poke := r.pokeChannel()
	for m := range r.ps.Channel(redis.WithChannelSize(256)) {
		if m.Channel == poke {
			var p pokeMessage
			if json.Unmarshal([]byte(m.Payload), &p) == nil && p.Origin != r.origin {
				r.local.Poke(p.Field, p.Args, p.Related)
			}
			continue
		}
		r.receive(m.Channel, []byte(m.Payload))
	}
}

// receive delivers a message of another replica to the subscribers of its
// channel here.
func (r *LiveRegistry) receive(channel string, data []byte) {
	var msg message
	if json.Unmarshal(data, &msg) != nil || msg.Origin == r.origin {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if k := r.byChan[channel]; k != nil {
		r.deliver(k, msg, nil)
	}
}

// deliver hands one poll's outcome to k's subscribers here, as
// live.Memory does: changes only, the first error of a streak, then
// completion after a final one. value is the polled value when polled
// here, nil to decode msg.Value. r.mu is held.
func (r *LiveRegistry) deliver(k *liveKey, msg message, value any) {
	if k.done {
		return
	}
	if msg.Err != nil {
		err := msg.Err.decode()
		switch {
		case msg.Final:
			err = live.Final(err)
			for s := range k.subs {
				s.sub.Send(live.Update{Err: err})
			}
			r.finish(k)
		case k.failed == nil:
			k.failed = err // the polling replica's poller logs it
			for s := range k.subs {
				s.sub.Send(live.Update{Err: err})
			}
		}
		return
	}
	recovered := k.failed != nil
	digest := sha256.Sum256(msg.Value)
	if k.has && digest == k.digest && !recovered && !msg.Final {
		return
	}
	if value == nil {
		v, err := k.decoder.Decode(msg.Value)
		if err != nil {
			r.opts.Logger.Warn("live: undecodable value from another replica", "field", k.key.Field, "error", err)
			return
		}
		value = v
	}
	k.failed = nil
	k.has, k.value, k.digest = true, value, digest
	for s := range k.subs {
		s.sub.Send(live.Update{Value: value})
	}
	if msg.Final {
		r.finish(k)
	}
}
