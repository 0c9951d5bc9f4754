#!/usr/bin/env bash
# Screenshot an HTML file with headless Chromium: tools/screenshot.sh FILE.html OUT.png [WIDTH] [HEIGHT]
set -euo pipefail
width=${3:-1280}; height=${4:-2400}
profile=$(mktemp -d)
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --user-data-dir="$profile" --hide-scrollbars \
  --window-size="${width},${height}" --screenshot="$2" "file://$(realpath "$1")" >/dev/null 2>&1
rm -rf "$profile"
