#!/usr/bin/env bash
# Real-client tests: each suite builds the gateway, starts it on the sandbox,
# installs its pinned npm packages from its lockfile and runs `node --test`.
#   clients/  Apollo Client paging, urql, Apollo Gateway over a composed supergraph
#   http/     graphql-http's audit suite, the offline playground in headless Chromium
#   federation/  Hive Gateway over two replicas sharing Redis
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
"$here/clients/run.sh"
"$here/http/run.sh"
"$here/federation/run.sh"
