#!/usr/bin/env bash
# Drives the real programs: tofu-echo on TCP and UDS, tofucat as client and as listener.
# Usage: programs_test.sh DIR_WITH_PROGRAMS
set -euo pipefail
bin="$1"
work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

freeport() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])' 2>/dev/null \
             || echo $(( 20000 + RANDOM % 20000 )); }
# Waits (bounded) until FILE holds N lines matching PATTERN.
waitfor() { for _ in $(seq 1 200); do [ "$(grep -c "$2" "$1" 2>/dev/null || true)" -ge "$3" ] && return 0; sleep 0.05; done
            echo "timeout waiting for '$2' in $1"; cat "$1"; return 1; }
fail() { echo "FAIL: $*"; exit 1; }

port=$(freeport); uds="$work/echo.sock"
"$bin/tofu-echo" --listen "tcp://127.0.0.1:$port" --listen "uds://$uds" > "$work/echo.log" 2>&1 &
echo_pid=$!; pids+=("$echo_pid")
waitfor "$work/echo.log" "listening on" 2

out=$("$bin/tofucat" --connect "tcp://127.0.0.1:$port" --request "hello tofu" --count 3 --header "k:v")
[ "$out" = $'hello tofu\nhello tofu\nhello tofu' ] || fail "unexpected tcp output: $out"
out=$("$bin/tofucat" --connect "uds://$uds" --request "über" --count 2)
[ "$out" = $'über\nüber' ] || fail "unexpected uds output: $out"
"$bin/tofucat" --connect "uds://$uds" --signal "s" --count 5 || fail "signals"
waitfor "$work/echo.log" "disconnected channel" 3

# failures: refused (exit 1 with a reason), bad arguments (exit 2)
set +e
"$bin/tofucat" --connect "tcp://127.0.0.1:$(freeport)" --request x 2> "$work/err"; rc=$?
set -e
[ $rc -eq 1 ] || fail "refused exit $rc"; grep -q "refused" "$work/err" || fail "no reason: $(cat "$work/err")"
for args in "--bogus" "--connect tcp://x" "--connect nourl --request x" "--listen uds:// --echo" "--count x"; do
    set +e; "$bin/tofucat" $args > /dev/null 2>&1; rc=$?; set -e
    [ $rc -eq 2 ] || fail "'$args' exit $rc"
done
"$bin/tofucat" --help | grep -q "usage" || fail "help"
"$bin/tofu-echo" --help | grep -q "usage" || fail "echo help"

# tofucat as an echoing listener, printing what it gets
lport=$(freeport)
"$bin/tofucat" --listen "tcp://127.0.0.1:$lport" --echo > "$work/listen.log" 2>&1 &
lpid=$!; pids+=("$lpid")
waitfor "$work/listen.log" "listening on" 1
out=$("$bin/tofucat" --connect "tcp://127.0.0.1:$lport" --request "ping" --header "a:b")
[ "$out" = "ping" ] || fail "listener echo: $out"
waitfor "$work/listen.log" "\[a:b\] ping" 1
kill -TERM "$lpid"; wait "$lpid" || fail "tofucat --listen exit"

# SIGTERM: exit 0, listeners closed, UDS file removed
kill -TERM "$echo_pid"; wait "$echo_pid" || fail "tofu-echo exit status"
[ ! -e "$uds" ] || fail "UDS file left behind"
grep -q "connected channel" "$work/echo.log" || fail "no connect lines"
echo "programs OK"
