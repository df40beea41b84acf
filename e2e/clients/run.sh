#!/usr/bin/env bash
# Runs the client tests (Apollo Client, urql, Apollo Federation) against a
# freshly built gateway in sandbox mode, and the subscription tests
# (graphql-ws, Apollo GraphQLWsLink, graphql-sse) against a second gateway in
# front of a sandbox process whose clock runs 10 times faster
# (SANDBOX_TIME_SCALE=10), so that a placed call lives a few seconds. Needs
# only Go, Node 20+ and npm.
#
#   e2e/clients/run.sh                      # every test
#   e2e/clients/run.sh --test-name-pattern=urql
#
# Extra arguments go to `node --test`. Exits non-zero when anything fails.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
tmp="$(mktemp -d)"
gateway_pid=""
live_pids=()

cleanup() {
  for pid in "$gateway_pid" "${live_pids[@]}"; do
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "building the gateway"
(cd "$root" && go build -o "$tmp/gateway" .)
# The client schema, for relay-compiler.
"$tmp/gateway" schema >"$tmp/schema.graphql"
# Real call order ids of the sandbox dataset: the attempt list carries none.
order_ids="$(cd "$root" && go run ./e2e/clients/orderids -n 20 | paste -sd, -)"

free_port() {
  node -e 'const s = require("node:net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })'
}
port="$(free_port)"
gateway_url="http://127.0.0.1:$port"

# Sandbox mode (no REVOX_API_KEY) with default settings: a clean environment,
# so that nothing the caller has exported changes what the tests see.
env -i PATH="$PATH" HOME="${HOME:-/}" PORT="$port" LOG_LEVEL=warn LOG_FORMAT=text \
  "$tmp/gateway" >"$tmp/gateway.log" 2>&1 &
gateway_pid=$!

echo "waiting for $gateway_url/healthz"
for _ in $(seq 1 150); do
  if ! kill -0 "$gateway_pid" 2>/dev/null; then
    echo "the gateway exited during start-up:" >&2
    cat "$tmp/gateway.log" >&2
    exit 1
  fi
  if node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "$gateway_url/healthz"; then
    break
  fi
  sleep 0.2
done
node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "$gateway_url/healthz" || {
  echo "the gateway did not become healthy:" >&2
  cat "$tmp/gateway.log" >&2
  exit 1
}

# The subscription tests' pair: a sandbox process (its clock 10x faster) and
# a gateway polling it every 100 ms.
sandbox_port="$(free_port)"
sandbox_url="http://127.0.0.1:$sandbox_port"
env -i PATH="$PATH" HOME="${HOME:-/}" PORT="$sandbox_port" SANDBOX_TIME_SCALE=10 LOG_LEVEL=warn LOG_FORMAT=text \
  "$tmp/gateway" sandbox >"$tmp/sandbox.log" 2>&1 &
live_pids+=($!)
live_port="$(free_port)"
live_url="http://127.0.0.1:$live_port"
env -i PATH="$PATH" HOME="${HOME:-/}" PORT="$live_port" REVOX_BASE_URL="$sandbox_url" REVOX_API_KEY=sk_sandbox_demo \
  POLL_INTERVAL=100ms LOG_LEVEL=warn LOG_FORMAT=text \
  "$tmp/gateway" >"$tmp/live-gateway.log" 2>&1 &
live_pids+=($!)
for _ in $(seq 1 150); do
  if node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "$live_url/healthz"; then
    break
  fi
  sleep 0.2
done

cd "$here"
# Installed from the lockfile when missing or older than it.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
fi

status=0
GATEWAY_URL="$gateway_url" ORDER_IDS="$order_ids" SCHEMA_FILE="$tmp/schema.graphql" LIVE_GATEWAY_URL="$live_url" SANDBOX_URL="$sandbox_url" \
  node --test "$@" ./*.test.mjs || status=$?
if [[ $status -ne 0 && -s "$tmp/gateway.log" ]]; then
  echo "--- gateway log ---" >&2
  cat "$tmp/gateway.log" >&2
  echo "--- subscription gateway log ---" >&2
  cat "$tmp/live-gateway.log" >&2
fi
exit "$status"
