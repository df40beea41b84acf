#!/usr/bin/env bash
# Every test: Go (unit, end-to-end over HTTP against the sandbox, fuzz seed
# corpora) with the race detector, then the real-client suites (npm packages,
# headless Chromium: CHROMIUM_PATH, or Debian's chromium, which e2e/http/run.sh
# installs with --no-install-recommends when missing; redis-server for the
# replica tests, which skip without it unless REQUIRE_REDIS=1).
# The C encoders (gzip by ISA-L's igzip, brotli by its reference library:
# Debian's libisal-dev and libbrotli-dev, found by pkg-config) are built in,
# as the build tag cencoders, when their libraries are installed; without
# them every test runs on the pure Go encoders.
set -euo pipefail
cd "$(dirname "$0")"
if pkg-config --exists libisal libbrotlienc 2>/dev/null; then
  export GOFLAGS="${GOFLAGS:-} -tags=cencoders"
  echo "test.sh: with the C encoders (build tag cencoders)"
fi
go test -race ./...
e2e/run.sh
