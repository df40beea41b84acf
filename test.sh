#!/usr/bin/env bash
# Every test: Go (unit, end-to-end over HTTP against the sandbox, fuzz seed
# corpora) with the race detector, then the real-client suites (npm packages,
# headless Chromium: CHROMIUM_PATH, or Debian's chromium, which e2e/http/run.sh
# installs with --no-install-recommends when missing; redis-server for the
# replica tests, which skip without it unless REQUIRE_REDIS=1).
set -euo pipefail
cd "$(dirname "$0")"
go test -race ./...
e2e/run.sh
