#!/usr/bin/env bash
# Browser test of the dashboard: builds herald, starts `herald serve --dev`
# on a free loopback port with a throwaway data dir, and runs
# dashboard.test.mjs (node --test), which drives Debian's Chromium headless
# through playwright-core and checks the keys it makes with the official
# `ably` npm package.
#
# Needs Go, Node >= 20 and npm. Installs Debian's chromium with apt-get when
# /usr/bin/chromium is missing (as root, or through sudo).
#
# Environment:
#   CHROMIUM        browser binary (default /usr/bin/chromium)
#   DOCS_SCREENSHOT=1  also write docs/dashboard-keys.png (the API Keys tab)
#   KEEP_TMP=1      keep the server's data dir and log
# Screenshots of failed steps go to test/browser/artifacts/.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"

if [[ ! -x "$CHROMIUM" ]]; then
  echo "== installing Debian chromium (apt-get)"
  sudo=""
  if [[ "$(id -u)" != 0 ]]; then
    command -v sudo >/dev/null || { echo "run.sh: $CHROMIUM is missing and installing it needs root" >&2; exit 1; }
    sudo="sudo"
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
  [[ -x "$CHROMIUM" ]] || { echo "run.sh: $CHROMIUM is still missing after apt-get install chromium" >&2; exit 1; }
fi
"$CHROMIUM" --version 2>/dev/null | head -1 || true

echo "== npm ci (playwright-core, ably)"
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)

tmp="$(mktemp -d)"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [[ "${KEEP_TMP:-}" == 1 ]]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

echo "== building herald"
(cd "$root" && go build -o "$tmp/herald" ./cmd/herald)

# Port 0: the kernel picks a free port and the server prints it.
"$tmp/herald" --data-dir "$tmp/data" serve --dev --listen 127.0.0.1:0 --log-level warn 2>"$tmp/server.log" &
server_pid=$!
addr=""
for _ in $(seq 1 100); do
  addr="$(sed -n 's|^Herald listening on http://\([^ ]*\).*|\1|p' "$tmp/server.log" | head -1)"
  [[ -n "$addr" ]] && grep -q "Development mode" "$tmp/server.log" && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$tmp/server.log" >&2; echo "run.sh: herald exited" >&2; exit 1; }
  sleep 0.1
done
[[ -n "$addr" ]] || { cat "$tmp/server.log" >&2; echo "run.sh: herald did not start" >&2; exit 1; }
# The access token is the first non-empty line after its announcement.
token="$(awk '/Control API access token/ {f=1; next} f && NF {print $1; exit}' "$tmp/server.log")"
[[ -n "$token" ]] || { cat "$tmp/server.log" >&2; echo "run.sh: no access token in the server output" >&2; exit 1; }
echo "herald listening on $addr"

export HERALD_URL="http://$addr"
export HERALD_PORT="${addr##*:}"
export HERALD_ACCESS_TOKEN="$token"
if [[ "${DOCS_SCREENSHOT:-}" == 1 ]]; then
  export KEYS_SCREENSHOT="$root/docs/dashboard-keys.png"
fi

echo "== node --test dashboard.test.mjs"
status=0
(cd "$here" && node --test --test-reporter=spec dashboard.test.mjs) || status=$?
if [[ $status != 0 ]]; then
  echo "== server log" >&2
  tail -n 50 "$tmp/server.log" | grep -v -e "$token" >&2 || true
  echo "screenshots: $here/artifacts/" >&2
fi
exit $status
