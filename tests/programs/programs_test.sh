#!/usr/bin/env bash
# Drives the real programs as processes: tofu-echo on TCP and UDS, tofucat as client and as listener.
# Free ports and a private temp dir for UDS paths; every wait is bounded; every process is killed at exit.
# Usage: programs_test.sh DIR_WITH_PROGRAMS
set -euo pipefail
bin="$1"
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
# A client run, bounded: a hung tofucat fails the test instead of hanging it.
cat_() { timeout 30 "$bin/tofucat" "$@"; }

# --- tofu-echo on TCP and UDS
port=$(freeport)
uds="$work/echo.sock"
"$bin/tofu-echo" --listen "tcp://127.0.0.1:$port" --listen "uds://$uds" > "$work/echo.log" 2>&1 &
echo_pid=$!
pids+=("$echo_pid")
waitfor "$work/echo.log" "listening on" 2
[ -S "$uds" ] || fail "no UDS socket file at $uds"

out=$(cat_ --connect "tcp://127.0.0.1:$port" --request "hello tofu" --count 3 --header "k:v")
[ "$out" = $'hello tofu\nhello tofu\nhello tofu' ] || fail "tcp output: $out"
out=$(cat_ --connect "uds://$uds" --request "über" --count 2)
[ "$out" = $'über\nüber' ] || fail "uds output: $out"
out=$(cat_ --connect "tcp://localhost:$port" --request "by name" --timeout 5)
[ "$out" = "by name" ] || fail "host name output: $out"
out=$(cat_ --connect "uds://$uds" --signal "s" --count 5)
[ "$out" = $'s\ns\ns\ns\ns' ] || fail "echoed signals not printed: $out"
waitfor "$work/echo.log" "connected channel" 4
waitfor "$work/echo.log" "disconnected channel" 4
grep -q "connected channel .*(tcp|127.0.0.1|$port)" "$work/echo.log" || fail "no peer address in the connect line"

# --- arguments: clear message, exit 2; help exits 0
for args in "--bogus" "--connect tcp://x" "--connect nourl --request x" "--connect uds:// --request x" "--count x" \
    "--connect tcp://h:1 --request x --timeout 0" "--connect tcp://h:1 --request x --echo" \
    "--connect tcp://h:1 --listen tcp://h:2 --request x" "--connect" "--header nocolon"; do
    set +e
    # shellcheck disable=SC2086
    "$bin/tofucat" $args > /dev/null 2> "$work/err"
    rc=$?
    set -e
    [ $rc -eq 2 ] || fail "tofucat $args: exit $rc"
    grep -q "tofucat: " "$work/err" || fail "tofucat $args: no message"
    # the reason, then one line naming --help (not the whole usage)
    [ "$(wc -l < "$work/err")" -eq 2 ] && grep -q -- "--help" "$work/err" || fail "tofucat $args: $(cat "$work/err")"
done
for args in "" "--listen" "--listen nourl" "--bogus"; do
    set +e
    # shellcheck disable=SC2086
    "$bin/tofu-echo" $args > /dev/null 2> "$work/err"
    rc=$?
    set -e
    [ $rc -eq 2 ] || fail "tofu-echo $args: exit $rc"
    [ "$(wc -l < "$work/err")" -eq 2 ] && grep -q -- "--help" "$work/err" || fail "tofu-echo $args: $(cat "$work/err")"
done
"$bin/tofucat" --help | grep -q "usage" || fail "tofucat --help"
"$bin/tofu-echo" --help | grep -q "usage" || fail "tofu-echo --help"

# --- failures with a one-line reason, exit 1: refused, cannot listen
set +e
cat_ --connect "tcp://127.0.0.1:$(freeport)" --request x 2> "$work/err"
rc=$?
set -e
[ $rc -eq 1 ] || fail "refused: exit $rc"
grep -q "refused" "$work/err" || fail "refused: $(cat "$work/err")"
[ "$(wc -l < "$work/err")" -eq 1 ] || fail "refused: more than one line"
set +e
cat_ --connect "uds://$work/nobody.sock" --request x 2> "$work/err"
rc=$?
timeout 10 "$bin/tofu-echo" --listen "tcp://127.0.0.1:$port" 2> "$work/err2"
rc2=$?
set -e
[ $rc -eq 1 ] && grep -q "refused: uds_path_not_found" "$work/err" || fail "uds refused: $rc $(cat "$work/err")"
[ $rc2 -eq 1 ] && grep -q "listen_failed" "$work/err2" || fail "port in use: $rc2 $(cat "$work/err2")"

# --- tofucat --listen --echo: prints what it gets and answers like tofu-echo
lport=$(freeport)
"$bin/tofucat" --listen "tcp://127.0.0.1:$lport" --echo > "$work/listen.log" 2>&1 &
lpid=$!
pids+=("$lpid")
waitfor "$work/listen.log" "listening on" 1
out=$(cat_ --connect "tcp://127.0.0.1:$lport" --request "ping" --header "a:b")
[ "$out" = "ping" ] || fail "listener echo: $out"
waitfor "$work/listen.log" "hello/request/application .*\[~connect_to:tcp|127.0.0.1|$lport\]" 1
waitfor "$work/listen.log" "regular/request/application .*status=success \[a:b\] ping$" 1
waitfor "$work/listen.log" "bye/request" 1
cat_ --connect "tcp://127.0.0.1:$lport" --request $'\x01\x02z' > /dev/null
waitfor "$work/listen.log" "hex: 01 02 7a$" 1
stop "$lpid" TERM

# --- tofucat --listen without --echo on UDS: a sink for signals; requests go unanswered (timeout)
luds="$work/listen.sock"
"$bin/tofucat" --listen "uds://$luds" > "$work/sink.log" 2>&1 &
spid=$!
pids+=("$spid")
waitfor "$work/sink.log" "listening on" 1
cat_ --connect "uds://$luds" --signal "tick" --count 3
waitfor "$work/sink.log" "regular/signal/application .* tick$" 3
set +e
cat_ --connect "uds://$luds" --request "anyone?" --timeout 1 2> "$work/err"
rc=$?
set -e
[ $rc -eq 1 ] && grep -q "timeout" "$work/err" || fail "timeout: exit $rc $(cat "$work/err")"
# closed: the listener goes away while a client waits for its answer
cat_ --connect "uds://$luds" --request "still there?" --timeout 20 > /dev/null 2> "$work/err" &
cpid=$!
waitfor "$work/sink.log" "still there?$" 1
stop "$spid" INT
set +e
wait "$cpid"
rc=$?
set -e
[ $rc -eq 1 ] && grep -q "closed" "$work/err" || fail "closed: exit $rc $(cat "$work/err")"
[ ! -e "$luds" ] || fail "tofucat left its UDS file behind"

# --- IPv6 literal, when the host has ::1
if python3 -c 'import socket;socket.socket(socket.AF_INET6).bind(("::1",0))' 2> /dev/null; then
    p6=$(freeport)
    "$bin/tofu-echo" --listen "tcp://[::1]:$p6" > "$work/echo6.log" 2>&1 &
    e6=$!
    pids+=("$e6")
    waitfor "$work/echo6.log" "listening on" 1
    out=$(cat_ --connect "tcp://[::1]:$p6" --request "six")
    [ "$out" = "six" ] || fail "IPv6 output: $out"
    stop "$e6" INT
else
    echo "(no IPv6 loopback: IPv6 case skipped)"
fi

# --- SIGTERM: exit 0, listeners closed, UDS file removed
stop "$echo_pid" TERM
[ ! -e "$uds" ] || fail "tofu-echo left its UDS file behind"
grep -q "stopped by signal" "$work/echo.log" || fail "no stop line"
set +e
cat_ --connect "tcp://127.0.0.1:$port" --request x 2> /dev/null
rc=$?
set -e
[ $rc -eq 1 ] || fail "tofu-echo still answers after SIGTERM"
# --- observing: tofu-echo --stats/--verbose and SIGUSR1, tofucat --stats at exit (stderr)
ouds="$work/observed.sock"
"$bin/tofu-echo" --listen "uds://$ouds" --stats 1 --verbose > "$work/observed.log" 2>&1 &
opid=$!
pids+=("$opid")
waitfor "$work/observed.log" "listening on" 1
grep -q "^tofu debug: channel [0-9]*: listening on uds|$ouds" "$work/observed.log" || fail "no engine log line"
out=$(cat_ --connect "uds://$ouds" --request "counted" --count 2 --stats 2> "$work/cat_stats.err")
[ "$out" = $'counted\ncounted' ] || fail "--stats changed the output: $out"
# (a TOFU_STATS=OFF build says "traffic not counted" instead of the messages)
grep -Eq "^stats: (in 4 msgs .* out 4 msgs .*|traffic not counted; )connections 1 opened, 1 closed \(bye 1 " \
    "$work/cat_stats.err" ||
    fail "tofucat --stats: $(cat "$work/cat_stats.err")"
waitfor "$work/observed.log" "connections 1 opened, 1 closed (bye 1 " 1
kill -USR1 "$opid"
waitfor "$work/observed.log" "^channel: ch [0-9]* listener listening uds|$ouds" 1
stop "$opid" TERM

echo "programs OK"
