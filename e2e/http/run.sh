#!/usr/bin/env bash
# End-to-end HTTP tests: builds the gateway, serves it on a free port against
# a sandbox upstream process (its clock 5 times faster, so that a placed call
# lives seconds; the playground follows one with a subscription), then runs
# the graphql-http audit and the headless-Chromium playground tests (node
# --test). Drives the Chromium named by CHROMIUM_PATH, or Debian's chromium
# (installed with --no-install-recommends when missing, see chromium.sh), and
# installs the pinned npm packages when they are missing. The screenshot goes to
# e2e/http/artifacts/playground.png.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
tmp="$(mktemp -d)"
gateway_pid=""
sandbox_pid=""
cleanup() {
  for pid in "$gateway_pid" "$sandbox_pid"; do
    if [ -n "$pid" ]; then
      kill "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$tmp"
}
trap cleanup EXIT

# CHROMIUM_PATH names the browser; unset, Debian's is installed when missing.
CHROMIUM_PATH="$("$here/chromium.sh")"
export CHROMIUM_PATH
echo "== chromium: $CHROMIUM_PATH"

echo "== npm packages"
if [ ! -f "$here/node_modules/.package-lock.json" ] || [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
  (cd "$here" && npm ci --no-audit --no-fund)
fi

echo "== building the gateway"
(cd "$root" && go build -o "$tmp/gateway" .)

free_port() {
  node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}
sandbox_port="$(free_port)"
sandbox_url="http://127.0.0.1:$sandbox_port"
echo "== starting the sandbox upstream on $sandbox_url (SANDBOX_TIME_SCALE=5)"
env -u REVOX_API_KEY -u REVOX_SANDBOX -u REVOX_BASE_URL PORT="$sandbox_port" SANDBOX_TIME_SCALE=5 "$tmp/gateway" sandbox >"$tmp/sandbox.log" 2>&1 &
sandbox_pid=$!
port="$(free_port)"
url="http://127.0.0.1:$port"
echo "== starting the gateway on $url"
env -u REVOX_SANDBOX PORT="$port" REVOX_BASE_URL="$sandbox_url" REVOX_API_KEY=sk_sandbox_demo POLL_INTERVAL=200ms \
  "$tmp/gateway" >"$tmp/gateway.log" 2>&1 &
gateway_pid=$!
healthy() {
  node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "$url/healthz"
}
for _ in $(seq 1 100); do
  if healthy; then
    break
  fi
  if ! kill -0 "$gateway_pid" 2>/dev/null; then
    echo "the gateway exited:" >&2
    cat "$tmp/gateway.log" >&2
    exit 1
  fi
  sleep 0.1
done
if ! healthy; then
  echo "the gateway did not become healthy:" >&2
  cat "$tmp/gateway.log" >&2
  exit 1
fi

echo "== node --test"
cd "$here"
status=0
GATEWAY_URL="$url" SANDBOX_URL="$sandbox_url" node --test --test-timeout=180000 || status=$?
if [ "$status" -ne 0 ]; then
  echo "== gateway log (last 50 lines)" >&2
  tail -n 50 "$tmp/gateway.log" >&2
fi
exit "$status"
