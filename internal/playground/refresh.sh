#!/usr/bin/env bash
# Re-creates assets/ from the npm packages pinned in build/package-lock.json:
# installs them with `npm ci` in a temporary directory, bundles GraphiQL,
# React and Monaco with esbuild (build/build.mjs) and replaces assets/.
# To upgrade GraphiQL, change the versions in build/package.json, run
# `npm install --package-lock-only` in build/, then run this script.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

cp -R "$here/build/." "$tmp/"
rm -rf "$tmp/node_modules"
(cd "$tmp" && npm ci --no-audit --no-fund)
(cd "$tmp" && node build.mjs "$tmp/out")

rm -rf "$here/assets"
mv "$tmp/out" "$here/assets"
echo "playground assets refreshed:"
ls -l "$here/assets"
