package live

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"sync"
	"time"
)

// Defaults of MemoryOptions.
const (
	DefaultInterval         = 2 * time.Second
	DefaultMaxBackoff       = 30 * time.Second
	DefaultMaxSubscriptions = 10000
	DefaultPollTimeout      = 10 * time.Second
)

// MemoryOptions configure a Memory registry; zero values take the defaults.
type MemoryOptions struct {
	// Interval is the time between two polls of a poller (POLL_INTERVAL).
	Interval time.Duration
	// MaxBackoff bounds the wait after failed polls, which doubles from
	// Interval with each failure of a streak.
	MaxBackoff time.Duration
	// MaxSubscriptions bounds the subscriptions of the process
	// (MAX_SUBSCRIPTIONS).
	MaxSubscriptions int
	// PollTimeout bounds one poll.
	PollTimeout time.Duration
	// Logger receives failure streaks; nil means slog.Default().
	Logger *slog.Logger
}

// Memory is the in-process Registry.
type Memory struct {
	opts MemoryOptions

	mu      sync.Mutex
	pollers map[Key]*poller
	subs    int
	closed  bool
	running sync.WaitGroup
}

var _ Registry = (*Memory)(nil)

// NewMemory returns an empty registry.
func NewMemory(opts MemoryOptions) *Memory {
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	opts.MaxBackoff = max(opts.MaxBackoff, opts.Interval)
	if opts.MaxSubscriptions <= 0 {
		opts.MaxSubscriptions = DefaultMaxSubscriptions
	}
	if opts.PollTimeout <= 0 {
		opts.PollTimeout = DefaultPollTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Memory{opts: opts, pollers: map[Key]*poller{}}
}

// poller polls one Key for its subscribers.
type poller struct {
	key  Key
	poll Poll
	poke chan struct{} // buffered 1: a poll is due now
	stop chan struct{} // closed when the last subscriber leaves

	// Guarded by Memory.mu.
	subs   map[*subscription]struct{}
	has    bool     // a value was polled
	last   any      // the last value
	digest [32]byte // of the last value's JSON
	failed error    // the error of the current failure streak, nil outside one
	done   bool     // stopped: no Send any more
}

// subscription is one subscriber's membership.
type subscription struct {
	sub Subscriber
	p   *poller
}

// Subscribe implements Registry.
func (m *Memory) Subscribe(key Key, poll Poll, sub Subscriber) (func(), error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrShuttingDown
	}
	if m.subs >= m.opts.MaxSubscriptions {
		return nil, ErrTooManySubscriptions
	}
	p := m.pollers[key]
	if p == nil {
		p = &poller{key: key, poll: poll, poke: make(chan struct{}, 1), stop: make(chan struct{}), subs: map[*subscription]struct{}{}}
		m.pollers[key] = p
		m.running.Add(1)
		go m.run(p)
	}
	s := &subscription{sub: sub, p: p}
	p.subs[s] = struct{}{}
	m.subs++
	switch {
	case p.failed != nil:
		sub.Send(Update{Err: p.failed})
	case p.has:
		sub.Send(Update{Value: p.last})
	}
	return func() { m.unsubscribe(s) }, nil
}

// unsubscribe removes s, stopping its poller when s was the last.
func (m *Memory) unsubscribe(s *subscription) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := s.p
	if _, ok := p.subs[s]; !ok {
		return
	}
	delete(p.subs, s)
	m.subs--
	if len(p.subs) == 0 {
		m.retire(p)
	}
}

// retire stops p and forgets it; m.mu is held.
func (m *Memory) retire(p *poller) {
	if p.done {
		return
	}
	p.done = true
	close(p.stop)
	if m.pollers[p.key] == p {
		delete(m.pollers, p.key)
	}
}

// finish completes every subscriber of p and retires it; m.mu is held.
func (m *Memory) finish(p *poller) {
	for s := range p.subs {
		s.sub.Close()
		delete(p.subs, s)
		m.subs--
	}
	m.retire(p)
}

// Poke implements Registry.
func (m *Memory) Poke(field, args, related string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	creds := map[string]bool{"": true}
	for k, p := range m.pollers {
		if k.Field == field && k.Args == args {
			creds[k.Credential] = true
			p.wake()
		}
	}
	if related == "" {
		return
	}
	for k, p := range m.pollers {
		if k.Field == related && creds[k.Credential] {
			p.wake()
		}
	}
}

func (p *poller) wake() {
	select {
	case p.poke <- struct{}{}:
	default:
	}
}

// Stats implements Registry.
func (m *Memory) Stats() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	return Stats{Pollers: len(m.pollers), Subscriptions: m.subs}
}

// Shutdown implements Registry.
func (m *Memory) Shutdown(ctx context.Context) error {
	m.mu.Lock()
	m.closed = true
	for _, p := range m.pollers {
		m.finish(p)
	}
	m.mu.Unlock()
	done := make(chan struct{})
	go func() { m.running.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run is p's loop: poll, deliver what changed, wait, until stopped.
func (m *Memory) run(p *poller) {
	defer m.running.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-p.stop
		cancel() // a poll in flight for no one stops
	}()
	streak := 0
	wait := time.Duration(0) // the first poll is at once
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-timer.C:
		case <-p.poke:
			if !timer.Stop() {
				select {
				case <-timer.C:
				default:
				}
			}
		}
		snap, err := m.pollOnce(ctx, p)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			streak++
			wait = min(m.opts.Interval<<min(streak, 16), m.opts.MaxBackoff)
		} else {
			streak, wait = 0, m.opts.Interval
		}
		if !m.deliver(p, snap, err) {
			return
		}
		timer.Reset(wait)
	}
}

// pollOnce calls p.poll under the poll timeout.
func (m *Memory) pollOnce(ctx context.Context, p *poller) (Snapshot, error) {
	ctx, cancel := context.WithTimeout(ctx, m.opts.PollTimeout)
	defer cancel()
	return p.poll(ctx)
}

// deliver hands one poll's outcome to p's subscribers; false means p is
// done.
func (m *Memory) deliver(p *poller, snap Snapshot, err error) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if p.done {
		return false
	}
	switch {
	case err != nil && IsFinal(err):
		for s := range p.subs {
			s.sub.Send(Update{Err: err})
		}
		m.finish(p)
		return false
	case err != nil:
		if p.failed == nil {
			// One event per streak, not one per poll.
			p.failed = err
			m.opts.Logger.Warn("live: poller failing", "field", p.key.Field, "error", err)
			for s := range p.subs {
				s.sub.Send(Update{Err: err})
			}
		}
		return true
	}
	// After a failure streak the value is sent again even when unchanged:
	// it tells the subscribers the failure is over.
	recovered := p.failed != nil
	p.failed = nil
	digest := sha256.Sum256(snap.JSON)
	if p.has && digest == p.digest && !recovered && !snap.Final {
		return true
	}
	p.has, p.last, p.digest = true, snap.Value, digest
	for s := range p.subs {
		s.sub.Send(Update{Value: snap.Value})
	}
	if snap.Final {
		m.finish(p)
		return false
	}
	return true
}
