#!/usr/bin/env bash
# recipes/demo.sh for the Windows programs of the mingw-w64 cross build, run under Wine: tofu-echo.exe
# serves TCP (and a Unix socket where the system has AF_UNIX; Wine 8 has not, which is printed as a SKIP),
# tofucat.exe talks to it, tofu-echo.exe stops on Ctrl-C (SIGINT, which Wine turns into CTRL_C_EVENT for
# its SetConsoleCtrlHandler); then tofu_demo.exe runs a server and a client in one program.
# Usage: recipes/demo_wine.sh [DIR_WITH_PROGRAMS]   (default build/windows/recipes, where
#        `cmake --workflow --preset windows` puts them). WINE (default wine), WINEPREFIX (default: a
#        wineprefix directory beside DIR_WITH_PROGRAMS) and WINEDEBUG (default -all) are honoured.
set -euo pipefail
bin="${1:-build/windows/recipes}"
for p in tofu-echo.exe tofucat.exe tofu_demo.exe; do
    if [ ! -f "$bin/$p" ]; then
        echo "demo_wine.sh: no $bin/$p; build first (cmake --workflow --preset windows) or pass the directory" >&2
        exit 2
    fi
done
wine="${WINE:-wine}"
export WINEDEBUG="${WINEDEBUG:--all}"
export WINEPREFIX="${WINEPREFIX:-$(cd "$bin/.." && pwd)/wineprefix}"

work="$(mktemp -d)"
echo_pid=""
cleanup() {
    [ -n "$echo_pid" ] && kill "$echo_pid" 2> /dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
run() { # prints the command (program name without its directory), then runs it under Wine, bounded
    local shown="${1##*/}" a
    for a in "${@:2}"; do
        case "$a" in
        *[!A-Za-z0-9_./:+=-]*) shown+=" '$a'" ;;
        *) shown+=" $a" ;;
        esac
    done
    echo "\$ wine $shown"
    timeout 60 "$wine" "$@"
}
freeport() {
    python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])' 2> /dev/null ||
        echo $((20000 + RANDOM % 20000))
}
# start_echo ARGS...: tofu-echo.exe in the background; 0 once every listener is up, 1 when it exited.
start_echo() {
    local want=$(($# / 2))
    "$wine" "$bin/tofu-echo.exe" "$@" > "$work/echo.log" 2>&1 &
    echo_pid=$!
    for _ in $(seq 1 400); do # up to 20 s (a fresh Wine prefix takes a while)
        [ "$(grep -c 'listening on' "$work/echo.log" || true)" -ge "$want" ] && return 0
        kill -0 "$echo_pid" 2> /dev/null || break
        sleep 0.05
    done
    kill "$echo_pid" 2> /dev/null || true
    wait "$echo_pid" 2> /dev/null || true
    echo_pid=""
    return 1
}

uds="$work/echo.sock"
port=$(freeport)
with_uds=1
if ! start_echo --listen "tcp://127.0.0.1:$port" --listen "uds://$uds"; then
    if grep -q 'uds' "$work/echo.log"; then
        echo "SKIP: the Unix socket parts: $(tr -d '\r' < "$work/echo.log" | grep -m1 uds)"
        with_uds=0
        port=$(freeport)
        start_echo --listen "tcp://127.0.0.1:$port" || {
            echo "demo_wine.sh: tofu-echo.exe did not start:" >&2
            cat "$work/echo.log" >&2
            exit 1
        }
    else
        echo "demo_wine.sh: tofu-echo.exe did not start:" >&2
        cat "$work/echo.log" >&2
        exit 1
    fi
fi
echo "=== tofu-echo.exe (pid $echo_pid) is up:"
cat "$work/echo.log"

echo
echo "=== tofucat.exe over TCP: three requests, each response body printed"
run "$bin/tofucat.exe" --connect "tcp://127.0.0.1:$port" --request "hello tofu over tcp" --count 3
echo
echo "=== tofucat.exe sending signals over TCP (tofu-echo echoes them back and tofucat prints the echoes)"
run "$bin/tofucat.exe" --connect "tcp://127.0.0.1:$port" --signal "tick" --count 3
if [ "$with_uds" -eq 1 ]; then
    echo
    echo "=== tofucat.exe over the Unix socket, with a text header"
    run "$bin/tofucat.exe" --connect "uds://$uds" --request "hello tofu over a unix socket" --header "lang:c++"
fi

echo
echo "=== Ctrl-C to tofu-echo.exe (SIGINT; Wine delivers CTRL_C_EVENT): it closes its listeners and exits 0"
kill -INT "$echo_pid"
for _ in $(seq 1 200); do kill -0 "$echo_pid" 2> /dev/null || break; sleep 0.05; done
if kill -0 "$echo_pid" 2> /dev/null; then
    echo "demo_wine.sh: tofu-echo.exe still running 10 s after Ctrl-C" >&2
    exit 1
fi
wait "$echo_pid"
echo_pid=""
cat "$work/echo.log"
grep -q 'stopped by signal' "$work/echo.log" || { echo "demo_wine.sh: tofu-echo.exe did not stop cleanly" >&2; exit 1; }

echo
echo "=== tofu_demo.exe: listen, connect, round trips and bye in one program"
if [ "$with_uds" -eq 1 ]; then
    run "$bin/tofu_demo.exe"
else
    run "$bin/tofu_demo.exe" --tcp-only
fi
