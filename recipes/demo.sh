#!/usr/bin/env bash
# The quick-start demo: tofu-echo serves TCP and a Unix socket, tofucat talks to both (each command is
# printed before it runs), tofu-echo stops on SIGTERM; then tofu_demo runs a server and a client in one
# program.
# Usage: recipes/demo.sh [DIR_WITH_PROGRAMS]   (default build/demo/recipes, where
#        `cmake --workflow --preset demo` puts them)
set -euo pipefail
bin="${1:-build/demo/recipes}"
for p in tofu-echo tofucat; do
    if [ ! -x "$bin/$p" ]; then
        echo "demo.sh: no $bin/$p; build first (cmake --workflow --preset demo) or pass the directory" >&2
        exit 2
    fi
done

work="$(mktemp -d)"
echo_pid=""
cleanup() {
    [ -n "$echo_pid" ] && kill "$echo_pid" 2> /dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
uds="$work/echo.sock"
run() { # prints the command (program name without its directory), then runs it
    local shown="${1##*/}" a
    for a in "${@:2}"; do
        case "$a" in
        *[!A-Za-z0-9_./:+=-]*) shown+=" '$a'" ;;
        *) shown+=" $a" ;;
        esac
    done
    echo "\$ $shown"
    "$@"
}

# A free port: the OS picks one (python3), else a random one; tofu-echo retries on another if taken.
freeport() {
    python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])' 2> /dev/null ||
        echo $((20000 + RANDOM % 20000))
}
for _ in 1 2 3 4 5; do
    port=$(freeport)
    "$bin/tofu-echo" --listen "tcp://127.0.0.1:$port" --listen "uds://$uds" > "$work/echo.log" 2>&1 &
    echo_pid=$!
    for _ in $(seq 1 100); do # up to 5 s for both listeners, or the server's exit
        [ "$(grep -c 'listening on' "$work/echo.log" || true)" -ge 2 ] && break
        kill -0 "$echo_pid" 2> /dev/null || break
        sleep 0.05
    done
    [ "$(grep -c 'listening on' "$work/echo.log" || true)" -ge 2 ] && break
    kill "$echo_pid" 2> /dev/null || true
    wait "$echo_pid" 2> /dev/null || true
    echo_pid=""
done
if [ -z "$echo_pid" ]; then
    echo "demo.sh: tofu-echo did not start:" >&2
    cat "$work/echo.log" >&2
    exit 1
fi
echo "=== tofu-echo (pid $echo_pid) is up:"
cat "$work/echo.log"

echo
echo "=== tofucat over TCP: three requests, each response body printed"
run "$bin/tofucat" --connect "tcp://127.0.0.1:$port" --request "hello tofu over tcp" --count 3
echo
echo "=== tofucat over the Unix socket, with a text header"
run "$bin/tofucat" --connect "uds://$uds" --request "hello tofu over a unix socket" --header "lang:c++"
echo
echo "=== tofucat sending signals (one-way messages; tofu-echo echoes them back and tofucat prints the echoes)"
run "$bin/tofucat" --connect "uds://$uds" --signal "tick" --count 3

echo
echo "=== SIGTERM to tofu-echo: it closes its listeners (the socket file goes) and exits 0"
kill -TERM "$echo_pid"
wait "$echo_pid"
echo_pid=""
cat "$work/echo.log"
[ -e "$uds" ] && echo "(socket file still there?)" || echo "(socket file removed)"

if [ -x "$bin/tofu_demo" ]; then
    echo
    echo "=== tofu_demo: listen, connect, round trips and bye in one program"
    run "$bin/tofu_demo"
fi
