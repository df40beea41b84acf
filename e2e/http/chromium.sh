#!/usr/bin/env bash
# Prints the path of the Chromium the playground test drives. CHROMIUM_PATH,
# when set, names it (it must be executable; nothing is installed). Otherwise
# Debian's /usr/bin/chromium, installed with apt-get when missing (as root,
# with --no-install-recommends: the browser and the libraries it links, none
# of the desktop extras, which headless use does not need).
set -euo pipefail
if [ -n "${CHROMIUM_PATH:-}" ]; then
  if [ ! -x "$CHROMIUM_PATH" ] || [ -d "$CHROMIUM_PATH" ]; then
    echo "CHROMIUM_PATH=$CHROMIUM_PATH is not an executable file" >&2
    exit 1
  fi
  echo "$CHROMIUM_PATH"
  exit 0
fi
if [ ! -x /usr/bin/chromium ]; then
  echo "== installing Debian's chromium (apt-get install --no-install-recommends)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends chromium >&2
fi
echo /usr/bin/chromium
