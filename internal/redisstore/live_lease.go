package redisstore

import (
	"context"

	"github.com/redis/go-redis/v9"

	"github.com/revox-graphql/gateway/internal/live"
)

var (
	// leaseScript takes or renews the lease KEYS[1] for the token ARGV[1]
	// for ARGV[2] ms: 1 when held, 0 when another holds it.
	leaseScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if v then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`)
	leaseReleaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`)
)

// lease takes or renews k's lease and polls here exactly when it is held,
// or when Redis cannot say who holds it.
func (r *LiveRegistry) lease(k *liveKey) {
	if k.decoder == nil {
		r.mu.Lock()
		r.startPolling(k, false)
		r.mu.Unlock()
		return
	}
	var held int64
	err := r.conn.call(context.Background(), func(ctx context.Context) (err error) {
		held, err = leaseScript.Run(ctx, r.conn.rdb, []string{k.lease}, k.token, r.ttl.Milliseconds()).Int64()
		return err
	})
	if err == nil {
		r.attach(k)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case err != nil:
		r.startPolling(k, true)
	case held == 1:
		r.back()
		r.startPolling(k, false)
		k.fellBack = false
	default:
		r.back()
		r.stopPolling(k)
	}
}

// back tells the end of an outage once; r.mu is held.
func (r *LiveRegistry) back() {
	if r.outage {
		r.outage = false
		r.opts.Logger.Info("redis available again: subscription pollers are shared between replicas again")
	}
}

// startPolling runs k's poller here unless it runs already; r.mu is held.
func (r *LiveRegistry) startPolling(k *liveKey, fallback bool) {
	if k.done {
		return
	}
	if fallback && !k.fellBack {
		k.fellBack = true
		r.conn.fellBack(ComponentLive)
		if !r.outage {
			r.outage = true
			r.opts.Logger.Warn("redis unavailable: each replica polls for its own subscribers until it returns")
		}
	}
	if k.polling != nil {
		return
	}
	leave, err := r.local.Subscribe(k.key, r.share(k), nopSubscriber{})
	if err == nil {
		k.polling = leave
	}
}

// stopPolling stops k's poller here; r.mu is held.
func (r *LiveRegistry) stopPolling(k *liveKey) {
	if k.polling != nil {
		k.polling()
		k.polling = nil
	}
}

// nopSubscriber keeps a local poller running: share delivers its polls.
type nopSubscriber struct{}

func (nopSubscriber) Send(live.Update) {}
func (nopSubscriber) Close()           {}
