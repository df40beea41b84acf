#!/usr/bin/env bash
# The production shape of issue 13: two replicas of the gateway sharing one
# Redis, over one upstream (the sandbox as its own process), behind Hive
# Gateway running a supergraph composed from our subgraph SDL and the
# client tests' notes subgraph. Needs Go, Node 20+, npm and redis-server
# (.ci/run installs it). Extra arguments go to `node --test`.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
tmp="$(mktemp -d)"
pids=()

cleanup() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! command -v redis-server >/dev/null; then
  if [[ -n "${REQUIRE_REDIS:-}" ]]; then
    echo "REQUIRE_REDIS is set but redis-server is missing: apt-get install -y --no-install-recommends redis-server" >&2
    exit 1
  fi
  echo "skipping the federation suite: redis-server is not installed (set REQUIRE_REDIS=1 to fail instead)" >&2
  exit 0
fi

free_port() {
  node -e 'const s = require("node:net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })'
}

wait_for() { # name url pid log: until url answers over HTTP, whatever the status
  for _ in $(seq 1 150); do
    if ! kill -0 "$3" 2>/dev/null; then
      echo "$1 exited during start-up:" >&2
      cat "$4" >&2
      exit 1
    fi
    if node -e 'fetch(process.argv[1]).then(() => process.exit(0), () => process.exit(1))' "$2"; then
      return 0
    fi
    sleep 0.2
  done
  echo "$1 did not answer $2:" >&2
  cat "$4" >&2
  exit 1
}

echo "building the gateway"
(cd "$root" && go build -o "$tmp/gateway" .)
order_ids="$(cd "$root" && go run ./e2e/clients/orderids -n 20 | paste -sd, -)"

redis_port="$(free_port)"
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$tmp" --save "" --appendonly no \
  --daemonize no --loglevel warning >"$tmp/redis.log" 2>&1 &
pids+=($!)

sandbox_port="$(free_port)"
# Placed calls live 10x faster than real time: a subscription follows one to
# its end in a few seconds.
env -i PATH="$PATH" HOME="${HOME:-/}" PORT="$sandbox_port" LOG_LEVEL=warn LOG_FORMAT=text SANDBOX_TIME_SCALE=10 \
  "$tmp/gateway" sandbox >"$tmp/sandbox.log" 2>&1 &
pids+=($!)
wait_for sandbox "http://127.0.0.1:$sandbox_port/call" "${pids[-1]}" "$tmp/sandbox.log"

# Replicas reached only by the federation gateway: it subscribes to them with
# GET event streams, which CSRF prevention (for browsers) would refuse.
replicas=()
for n in 1 2; do
  port="$(free_port)"
  env -i PATH="$PATH" HOME="${HOME:-/}" PORT="$port" LOG_LEVEL=warn LOG_FORMAT=text \
    REVOX_API_KEY=sk_sandbox_demo REVOX_BASE_URL="http://127.0.0.1:$sandbox_port" \
    REDIS_URL="redis://127.0.0.1:$redis_port/0" CACHE_TTL=1s POLL_INTERVAL=200ms ALLOW_ANONYMOUS_WRITES=true CSRF_PREVENTION=false \
    "$tmp/gateway" >"$tmp/replica$n.log" 2>&1 &
  pids+=($!)
  wait_for "replica $n" "http://127.0.0.1:$port/healthz" "${pids[-1]}" "$tmp/replica$n.log"
  replicas+=("http://127.0.0.1:$port")
done

# The notes subgraph is the client tests'; each suite installs from its
# lockfile when node_modules is missing or older than it.
for d in "$root/e2e/clients" "$here"; do
  if [[ ! -f "$d/node_modules/.package-lock.json" || "$d/package-lock.json" -nt "$d/node_modules/.package-lock.json" ]]; then
    (cd "$d" && npm ci --no-audit --no-fund)
  fi
done
cd "$here"

status=0
REPLICA_URLS="$(IFS=,; echo "${replicas[*]}")" ORDER_IDS="$order_ids" node --test "$@" ./*.test.mjs || status=$?
if [[ $status -ne 0 ]]; then
  for log in "$tmp"/*.log; do
    [[ -s "$log" ]] && { echo "--- $(basename "$log") ---" >&2; cat "$log" >&2; }
  done
fi
exit "$status"
