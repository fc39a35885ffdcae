# Shared by the program tests (sourced, not run): a private work dir and the processes started, both cleaned
# up at exit; failing with the logs; free ports; bounded waits. Set WAIT_TRIES (0.05 s each) before
# sourcing for a longer waitfor (default 200: 10 s).
work="$(mktemp -d)"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2> /dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*"
    for f in "$work"/*.log; do [ -e "$f" ] && { echo "--- $f"; cat "$f"; }; done
    exit 1
}
freeport() {
    python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])' 2> /dev/null ||
        echo $((20000 + RANDOM % 20000))
}
# waitfor FILE PATTERN N: until FILE holds N lines matching PATTERN (carriage returns ignored: Wine's output).
waitfor() {
    for _ in $(seq 1 "${WAIT_TRIES:-200}"); do
        [ "$(tr -d '\r' < "$1" 2> /dev/null | grep -c -- "$2" || true)" -ge "$3" ] && return 0
        sleep 0.05
    done
    fail "timeout waiting for $3 x '$2' in $1"
}
# stop PID [SIGNAL]: the process must exit 0 within 10 s of the signal (INT by default; under Wine,
# CTRL_C_EVENT).
stop() {
    local sig="${2:-INT}"
    kill -"$sig" "$1"
    for _ in $(seq 1 200); do kill -0 "$1" 2> /dev/null || break; sleep 0.05; done
    kill -0 "$1" 2> /dev/null && fail "pid $1 still running 10 s after SIG$sig"
    wait "$1" || fail "pid $1 exited $? on SIG$sig"
}
