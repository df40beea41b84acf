#!/usr/bin/env bash
# Runs the client tests (Apollo Client, urql, Apollo Federation) against a
# freshly built gateway in sandbox mode. Needs only Go, Node 20+ and npm.
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

cleanup() {
  if [[ -n "$gateway_pid" ]] && kill -0 "$gateway_pid" 2>/dev/null; then
    kill "$gateway_pid" 2>/dev/null || true
    wait "$gateway_pid" 2>/dev/null || true
  fi
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

port="$(node -e 'const s = require("node:net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')"
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

cd "$here"
if [[ ! -d node_modules ]]; then
  npm ci
fi

status=0
GATEWAY_URL="$gateway_url" ORDER_IDS="$order_ids" SCHEMA_FILE="$tmp/schema.graphql" node --test "$@" ./*.test.mjs || status=$?
if [[ $status -ne 0 && -s "$tmp/gateway.log" ]]; then
  echo "--- gateway log ---" >&2
  cat "$tmp/gateway.log" >&2
fi
exit "$status"
