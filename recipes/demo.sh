#!/usr/bin/env bash
# The quick-start demo: tofu-echo serves TCP and a Unix socket; tofucat talks to both; then
# tofu_demo runs a server and a client in one program.   Usage: recipes/demo.sh [BUILD_DIR/recipes]
set -euo pipefail
bin="${1:-build/release/recipes}"
port=$(( 20000 + RANDOM % 20000 ))
uds="${TMPDIR:-/tmp}/tofu-demo-$$.sock"
log="$(mktemp)"
"$bin/tofu-echo" --listen "tcp://127.0.0.1:$port" --listen "uds://$uds" > "$log" 2>&1 &
echo_pid=$!
trap 'kill "$echo_pid" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do [ "$(grep -c 'listening on' "$log" || true)" -ge 2 ] && break; sleep 0.05; done
cat "$log"

echo "--- tofucat over TCP"
"$bin/tofucat" --connect "tcp://127.0.0.1:$port" --request "hello tofu over tcp" --count 3
echo "--- tofucat over UDS, with a text header"
"$bin/tofucat" --connect "uds://$uds" --request "hello tofu over a unix socket" --header "lang:c++"
kill -TERM "$echo_pid"; wait "$echo_pid" || true
echo "--- tofu-echo said"
cat "$log"
echo "--- tofu_demo"
"$bin/tofu_demo"
