#!/usr/bin/env bash
# Across hosts (issue #6): two network namespaces joined by a veth pair (10.77.x.1 server, 10.77.x.2 client),
# netem delay 20ms loss 1% on both ends, a tofu server in one and a tofu client in the other (tofu_netns_peer).
#   1. transfer: 2000 numbered requests; every response arrives once and in order; the server sees them in order.
#   2. busy link cut (netem loss 100% while requests are in flight): the client learns within 45 s
#      (default Options::deadPeerTimeoutMs 30 s: no ACK for 30 s while data waits for one);
#   3. idle link cut (ip link set down on an idle connection): the client learns within 45 s
#      (keepalive: first probe after 10 s idle, then 3 probes 5 s apart);
#   4. slow reader: a sink that stops reading (pool_empty) for 6 s while the client (dead-peer timeout 2 s)
#      has filled its window: the client must NOT lose the channel, and the sink then gets every message
#      the client's engine accepted, in order (issue #12 item 9: the former 20 s TCP_USER_TIMEOUT closed
#      a reader paused longer than that);
#   5. link cut while the sink's window is closed (the client's kernel probes it): the client (timeout
#      3 s) learns within 15 s;
#   6. control: the server process is killed (the kernel closes its sockets): the client must learn at once.
# Any of them failing exits 1.
# Prints SKIP and exits 0 when namespaces cannot be made (not root, no iproute2, no permission).
# Usage: netns.sh DIR   (DIR holds tofu_netns_peer: the build's tests/hardening, or the build root)
set -uo pipefail

dir="${1:-}"
peer=""
for p in "$dir/tofu_netns_peer" "$dir/tests/hardening/tofu_netns_peer"; do
    [ -x "$p" ] && peer="$p" && break
done
[ -n "$peer" ] || { echo "FAIL: tofu_netns_peer not found under '$dir'"; exit 1; }
src="$(cd "$(dirname "$0")/../.." && pwd)/src"

skip() {
    echo "SKIP: $*"
    exit 0
}
[ "$(id -u)" -eq 0 ] || skip "network namespaces need root"
command -v ip > /dev/null || skip "iproute2 (ip) is not installed"

id=$$
sub=$((id % 250 + 1))
ns_s="tofu-srv-$id"
ns_c="tofu-cli-$id"
if_s="tofuS$id"
if_c="tofuC$id"
ip_s="10.77.$sub.1"
ip_c="10.77.$sub.2"
port=7099
work="$(mktemp -d)"
pids=()
cleanup() {
    for p in "${pids[@]}"; do
        kill -9 "$p" 2> /dev/null || true
        wait "$p" 2> /dev/null || true # reaped quietly (no "Killed" line)
    done
    ip netns del "$ns_s" 2> /dev/null || true
    ip netns del "$ns_c" 2> /dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

if ! ip netns add "$ns_s" 2> "$work/err"; then
    skip "ip netns add refused: $(cat "$work/err")"
fi
ip netns add "$ns_c" || skip "ip netns add refused"
ip link add "$if_s" type veth peer name "$if_c" 2> "$work/err" || skip "veth refused: $(cat "$work/err")"
ip link set "$if_s" netns "$ns_s"
ip link set "$if_c" netns "$ns_c"
ip -n "$ns_s" addr add "$ip_s/24" dev "$if_s"
ip -n "$ns_c" addr add "$ip_c/24" dev "$if_c"
for ns in "$ns_s" "$ns_c"; do ip -n "$ns" link set lo up; done
ip -n "$ns_s" link set "$if_s" up
ip -n "$ns_c" link set "$if_c" up

fail() {
    echo "FAIL: $*"
    for f in "$work"/*.log; do [ -e "$f" ] && { echo "--- $f"; cat "$f"; }; done
    exit 1
}
# waitfor FILE PATTERN SECONDS
waitfor() {
    local n=$(($3 * 20))
    for _ in $(seq 1 "$n"); do
        grep -q -- "$2" "$1" 2> /dev/null && return 0
        sleep 0.05
    done
    return 1
}
netem() { # netem ARGS...: the same qdisc on both ends
    tc -n "$ns_s" qdisc replace dev "$if_s" root netem "$@" && tc -n "$ns_c" qdisc replace dev "$if_c" root netem "$@"
}

echo "netns: $ns_s ($ip_s) <-> $ns_c ($ip_c) over veth"
impaired="netem delay 20ms loss 1%"
if command -v tc > /dev/null && netem delay 20ms loss 1% 2> "$work/err"; then
    echo "netns: $impaired on both ends"
else
    impaired=""
    echo "WARN: netem unavailable ($(cat "$work/err" 2> /dev/null)); running without delay and loss"
fi

# What the engine asks of TCP to notice a dead peer.
if [ -d "$src" ]; then
    opts=$(grep -hv '^ *//' "$src"/*.cpp 2> /dev/null |
        grep -o 'SO_KEEPALIVE\|TCP_KEEPIDLE\|TCP_KEEPINTVL\|TCP_KEEPCNT\|TCP_USER_TIMEOUT\|TCP_RTO_MAX_MS\|TCP_INFO' |
        sort -u | tr '\n' ' ')
    echo "netns: socket options in src/ for dead-peer detection: ${opts:-none (no SO_KEEPALIVE, no TCP_USER_TIMEOUT)}"
fi
echo "netns: client kernel: tcp_retries2=$(ip netns exec "$ns_c" cat /proc/sys/net/ipv4/tcp_retries2)" \
    "tcp_keepalive_time=$(ip netns exec "$ns_c" cat /proc/sys/net/ipv4/tcp_keepalive_time)s"

# No `timeout` wrapper: `ip netns exec` execs the peer, so $! is the server itself (killed in step 4 or at exit).
ip netns exec "$ns_s" "$peer" server "$ip_s" "$port" > "$work/server.log" 2>&1 &
server_pid=$!
pids+=("$server_pid")
waitfor "$work/server.log" "listening" 10 || fail "server did not start"

# --- 1. every message once and in order over a delayed, lossy link
start=$(date +%s%N)
timeout 120 ip netns exec "$ns_c" "$peer" transfer "$ip_s" "$port" 2000 > "$work/transfer.log" 2>&1 ||
    fail "transfer (exit $?)"
cat "$work/transfer.log"
grep -q "transfer OK" "$work/transfer.log" || fail "no transfer OK line"
waitfor "$work/server.log" "closed after 2000 requests in order" 10 || fail "server did not see 2000 requests in order"
grep -q "ORDER-ERROR" "$work/server.log" && fail "server saw requests out of order"
echo "RESULT transfer: 2000 requests and responses once each and in order ${impaired:+over $impaired}" \
    "($((($(date +%s%N) - start) / 1000000)) ms)"

findings=()
# run_cut NAME ACTION RESTORE CLIENT-ARGS...: the client (tofu_netns_peer CLIENT-ARGS) connects, says CUT-NOW,
# ACTION runs; the client must tell within the time CLIENT-ARGS give it.
run_cut() {
    local name="$1" action="$2" restore="$3" log="$work/cut-$1.log"
    shift 3
    ip netns exec "$ns_c" timeout 90 "$peer" "$@" > "$log" 2>&1 &
    local cpid=$!
    pids+=("$cpid")
    waitfor "$log" "CUT-NOW" 30 || fail "$name: the client never got ready"
    eval "$action" || fail "$name: '$action' failed"
    wait "$cpid"
    local rc=$?
    eval "$restore" || true
    cat "$log"
    case $rc in
        0) echo "RESULT $name: the client noticed: $(grep NOTICED "$log")" ;;
        3)
            echo "RESULT $name: the client did NOT notice in time: $(grep NOT-NOTICED "$log")"
            findings+=("$name")
            ;;
        124) fail "$name: the client hung (killed by timeout)" ;;
        *) fail "$name: client exit $rc" ;;
    esac
}

if [ -n "$impaired" ]; then
    cut_action="netem loss 100%"
    cut_restore="netem delay 20ms loss 1%"
else
    cut_action="ip -n $ns_c link set $if_c down"
    cut_restore="ip -n $ns_c link set $if_c up"
fi
# --- 2. link cut while requests are in flight (all packets lost from now on)
run_cut "busy-cut" "$cut_action" "$cut_restore" cut "$ip_s" "$port" busy 45
# --- 3. link cut under an idle connection
run_cut "idle-cut" "ip -n $ns_c link set $if_c down" "ip -n $ns_c link set $if_c up" cut "$ip_s" "$port" idle 45

# --- 4. a slow reader keeps its channel: paused 6 s, three times the client's 2 s dead-peer timeout
ip netns exec "$ns_s" "$peer" sink "$ip_s" 7100 6 > "$work/sink-slow.log" 2>&1 &
pids+=("$!")
waitfor "$work/sink-slow.log" "listening" 10 || fail "slow-reader: the sink did not start"
start=$(date +%s%N)
ip netns exec "$ns_c" timeout 90 "$peer" flood "$ip_s" 7100 2000 6 > "$work/slow-reader.log" 2>&1
rc=$?
cat "$work/slow-reader.log"
[ $rc -eq 3 ] || fail "slow-reader: the client lost its channel to a live reader (exit $rc)"
waitfor "$work/sink-slow.log" "END-" 20 || fail "slow-reader: the sink never got END"
cat "$work/sink-slow.log"
grep -q "END-OK" "$work/sink-slow.log" || fail "slow-reader: messages lost or out of order"
echo "RESULT slow-reader: the channel outlived 3x the dead-peer timeout, then every accepted message" \
    "arrived in order ($((($(date +%s%N) - start) / 1000000)) ms)"

# --- 5. link cut while the sink's window is closed: only unanswered window probes tell
ip netns exec "$ns_s" "$peer" sink "$ip_s" 7101 100000 > "$work/sink-cut.log" 2>&1 &
pids+=("$!")
waitfor "$work/sink-cut.log" "listening" 10 || fail "window-cut: the sink did not start"
run_cut "window-cut" "$cut_action" "$cut_restore" flood "$ip_s" 7101 3000 15

# --- 6. control: the server process dies; its kernel closes the connection
run_cut "server-killed" "kill -9 $server_pid && wait $server_pid 2> /dev/null; true" "true" cut "$ip_s" "$port" idle 45
[ ${#findings[@]} -eq 0 ] || fail "not noticed in time: ${findings[*]}"
echo "PASS: netns"
