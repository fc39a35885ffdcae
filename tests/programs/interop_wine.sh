#!/usr/bin/env bash
# Interop across operating systems: the Windows programs (mingw-w64 cross build, run under Wine) and the
# Linux ones talk over loopback TCP, one engine each side, in both directions:
#   1. tofu-echo.exe serves, the Linux tofucat asks (requests with a text header, then signals);
#   2. the Linux tofu-echo serves, tofucat.exe asks;
#   3. tofucat.exe --listen --echo serves, the Linux tofucat asks (a Windows listener that prints).
# Every wait is bounded; every process is stopped at exit.
# Usage: tests/programs/interop_wine.sh LINUX_PROGRAM_DIR WINDOWS_PROGRAM_DIR
#        (e.g. build/dev/recipes build/windows/recipes). WINE, WINEPREFIX and WINEDEBUG are honoured.
set -euo pipefail
lin="$1"
win="$2"
wine="${WINE:-wine}"
export WINEDEBUG="${WINEDEBUG:--all}"
export WINEPREFIX="${WINEPREFIX:-$(cd "$win/.." && pwd)/wineprefix}"
WAIT_TRIES=400  # 20 s: Wine starts slowly
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
lcat() { timeout 60 "$lin/tofucat" "$@"; }
wcat() { timeout 60 "$wine" "$win/tofucat.exe" "$@" | tr -d '\r'; }

# --- 1. Windows serves, Linux asks
port=$(freeport)
"$wine" "$win/tofu-echo.exe" --listen "tcp://127.0.0.1:$port" > "$work/wecho.log" 2>&1 &
pids+=($!)
wpid=$!
waitfor "$work/wecho.log" "listening on" 1
out=$(lcat --connect "tcp://127.0.0.1:$port" --request "linux asks windows" --count 3 --header "k:v")
[ "$out" = $'linux asks windows\nlinux asks windows\nlinux asks windows' ] || fail "linux -> windows: $out"
out=$(lcat --connect "tcp://127.0.0.1:$port" --signal "über" --count 2)
[ "$out" = $'über\nüber' ] || fail "linux -> windows signals: $out"
waitfor "$work/wecho.log" "disconnected channel" 2
stop "$wpid"
grep -q "stopped by signal" "$work/wecho.log" || fail "tofu-echo.exe did not stop cleanly"
echo "OK 1: tofu-echo.exe (Windows, Wine) answered the Linux tofucat: requests with a header, signals"

# --- 2. Linux serves, Windows asks
port=$(freeport)
"$lin/tofu-echo" --listen "tcp://127.0.0.1:$port" > "$work/lecho.log" 2>&1 &
pids+=($!)
lpid=$!
waitfor "$work/lecho.log" "listening on" 1
out=$(wcat --connect "tcp://127.0.0.1:$port" --request "windows asks linux" --count 3 --header "k:v")
[ "$out" = $'windows asks linux\nwindows asks linux\nwindows asks linux' ] || fail "windows -> linux: $out"
out=$(wcat --connect "tcp://127.0.0.1:$port" --signal "tick" --count 2)
[ "$out" = $'tick\ntick' ] || fail "windows -> linux signals: $out"
waitfor "$work/lecho.log" "disconnected channel" 2
stop "$lpid"
echo "OK 2: the Linux tofu-echo answered tofucat.exe (Windows, Wine): requests with a header, signals"

# --- 3. a Windows tofucat listener that prints what it gets, the Linux tofucat asking
port=$(freeport)
"$wine" "$win/tofucat.exe" --listen "tcp://127.0.0.1:$port" --echo > "$work/wlisten.log" 2>&1 &
pids+=($!)
wlpid=$!
waitfor "$work/wlisten.log" "listening on" 1
out=$(lcat --connect "tcp://127.0.0.1:$port" --request "ping" --header "a:b")
[ "$out" = "ping" ] || fail "tofucat.exe --listen --echo: $out"
waitfor "$work/wlisten.log" "regular/request/application .*status=success \[a:b\] ping$" 1
waitfor "$work/wlisten.log" "bye/request" 1
stop "$wlpid"
echo "OK 3: tofucat.exe --listen --echo (Windows, Wine) printed and answered the Linux tofucat"
