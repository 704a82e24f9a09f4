#!/usr/bin/env bash
# Build reset scenarios with real Linux TCP endpoints in network namespaces and capture them.
#
#   sudo bash scripts/scenarios/make-scenarios.sh [scenario...]
#
# Topology (rebuilt from scratch for every scenario, torn down on exit, even on failure):
#
#   rsc-cli [c0 10.77.1.2] <--veth--> [r1 10.77.1.1] rsc-rtr [r2 10.77.2.1] <--veth--> [s0 10.77.2.2] rsc-srv
#
# tcpdump captures at c0 (client side) and s0 (server side) into a work directory; truth.py
# verifies them and writes truth.json; only then are tests/fixtures/scenarios/<scenario>.
# {client,server}.pcap and truth.json replaced. No traffic leaves the three namespaces.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
OUT="$REPO/tests/fixtures/scenarios"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
EP="$HERE/endpoints.py"
FORGE="$HERE/forge.py"

NS_C=rsc-cli
NS_R=rsc-rtr
NS_S=rsc-srv
MAC_C=02:77:00:01:00:02   # c0, the client
MAC_R1=02:77:00:01:00:01  # r1, the router towards the client
MAC_R2=02:77:00:02:00:01  # r2, the router towards the server
MAC_S=02:77:00:02:00:02   # s0, the server

ALL_SCENARIOS=(refused abortive_close data_after_close idle_timeout middlebox_reject
  middlebox_inject mass_reset retransmission_timeout zero_window_stall out_of_window
  after_close syn_timeout random_loss everyday)

if [ "$(id -u)" != 0 ]; then echo "run as root (sudo)" >&2; exit 1; fi
for tool in ip iptables tcpdump; do
  command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }
done

WORK=$(mktemp -d /tmp/rstscope-scenarios.XXXXXX)
BG_PIDS=()

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }

kill_bg() {
  # Only our own background processes that have not been reaped yet (jobs -p), so that a
  # process id reused by someone else is never signalled.
  local pid live
  live=" $(jobs -p | tr '\n' ' ') "
  for pid in "${BG_PIDS[@]}"; do
    if [[ $live == *" $pid "* ]]; then kill -9 "$pid" 2>/dev/null || true; fi
  done
  for pid in "${BG_PIDS[@]}"; do
    if [[ $live == *" $pid "* ]]; then wait "$pid" 2>/dev/null || true; fi
  done
  BG_PIDS=()
}

teardown() {
  kill_bg
  local ns
  for ns in $NS_C $NS_R $NS_S; do
    ip netns del "$ns" 2>/dev/null || true
  done
}

cleanup() {
  local rc=$?
  teardown
  if [ "$rc" != 0 ]; then
    log "FAILED (rc=$rc); work files kept in $WORK"
  else
    [ -n "${KEEP_WORK:-}" ] && log "work files in $WORK" || rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------------ topology

setup() {
  teardown
  ip netns add $NS_C
  ip netns add $NS_R
  ip netns add $NS_S
  ip link add c0 netns $NS_C address $MAC_C type veth peer name r1 netns $NS_R address $MAC_R1
  ip link add s0 netns $NS_S address $MAC_S type veth peer name r2 netns $NS_R address $MAC_R2
  local ns
  for ns in $NS_C $NS_R $NS_S; do
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip -n "$ns" link set lo up
  done
  ip netns exec $NS_R sysctl -qw net.ipv4.ip_forward=1
  # One MSS-sized segment per packet (no TSO super-packets in the captures) and software
  # checksums (correct TCP checksums in the captures).
  ip -n $NS_C link set c0 gso_max_segs 1 gso_max_size 1500
  ip -n $NS_S link set s0 gso_max_segs 1 gso_max_size 1500
  ip -n $NS_R link set r1 gso_max_segs 1 gso_max_size 1500
  ip -n $NS_R link set r2 gso_max_segs 1 gso_max_size 1500
  ip netns exec $NS_C $PY "$EP" txcsum-off c0
  ip netns exec $NS_S $PY "$EP" txcsum-off s0
  ip netns exec $NS_R $PY "$EP" txcsum-off r1 r2

  ip -n $NS_C addr add 10.77.1.2/24 dev c0
  ip -n $NS_R addr add 10.77.1.1/24 dev r1
  ip -n $NS_R addr add 10.77.2.1/24 dev r2
  ip -n $NS_S addr add 10.77.2.2/24 dev s0
  ip -n $NS_C link set c0 up
  ip -n $NS_R link set r1 up
  ip -n $NS_R link set r2 up
  ip -n $NS_S link set s0 up
  ip -n $NS_C route add default via 10.77.1.1
  ip -n $NS_S route add default via 10.77.2.1
  # Static neighbours: no ARP in the captures, and deterministic MACs.
  ip -n $NS_C neigh replace 10.77.1.1 lladdr $MAC_R1 dev c0 nud permanent
  ip -n $NS_R neigh replace 10.77.1.2 lladdr $MAC_C dev r1 nud permanent
  ip -n $NS_R neigh replace 10.77.2.2 lladdr $MAC_S dev r2 nud permanent
  ip -n $NS_S neigh replace 10.77.2.1 lladdr $MAC_R2 dev s0 nud permanent
}

# ------------------------------------------------------------------ helpers

in_c() { ip netns exec $NS_C "$@"; }
in_r() { ip netns exec $NS_R "$@"; }
in_s() { ip netns exec $NS_S "$@"; }

# wait_file <path> [timeout seconds]
wait_file() {
  local f=$1 n=$(( ${2:-30} * 50 ))
  while [ ! -e "$f" ]; do
    n=$((n - 1))
    if [ "$n" -le 0 ]; then log "timed out waiting for $f"; return 1; fi
    sleep 0.02
  done
}

CAP_PIDS=()
CAP_NAME=
cap_start() {
  local name=$1
  CAP_NAME=$name
  ip netns exec $NS_C tcpdump -Z root -i c0 -s 262144 -B 65536 -U --immediate-mode -n -w "$WORK/$name.client.pcap" \
    2>"$WORK/$name.tcpdump-c.log" &
  CAP_PIDS=($!)
  BG_PIDS+=($!)
  ip netns exec $NS_S tcpdump -Z root -i s0 -s 262144 -B 65536 -U --immediate-mode -n -w "$WORK/$name.server.pcap" \
    2>"$WORK/$name.tcpdump-s.log" &
  CAP_PIDS+=($!)
  BG_PIDS+=($!)
  local f n
  for f in "$WORK/$name.tcpdump-c.log" "$WORK/$name.tcpdump-s.log"; do
    n=250
    until grep -q "listening on" "$f" 2>/dev/null; do
      n=$((n - 1)); [ "$n" -gt 0 ] || { log "tcpdump did not start"; cat "$f" >&2; return 1; }
      sleep 0.02
    done
  done
  sleep 0.1
}

cap_stop() {
  sleep 0.3
  local pid
  for pid in "${CAP_PIDS[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
  for pid in "${CAP_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  CAP_PIDS=()
  local f
  for f in "$WORK/$CAP_NAME.tcpdump-c.log" "$WORK/$CAP_NAME.tcpdump-s.log"; do
    if ! grep -q "^0 packets dropped by kernel" "$f"; then
      log "tcpdump lost packets:"; cat "$f" >&2; return 1
    fi
  done
}

SERVER_PID=
server_start() {
  local name=$1
  ip netns exec $NS_S $PY "$EP" server "$name" "$WORK" 2>"$WORK/$name.server.stderr" &
  SERVER_PID=$!
  BG_PIDS+=($!)
  wait_file "$WORK/$name.server-ready" 10
}

forge_start() {  # forge_start <scenario> <mode> <iface> <match> [delay]
  local name=$1
  ip netns exec $NS_R $PY "$FORGE" "$2" "$3" "$4" "$WORK" "$name" "${5:-0}" \
    2>"$WORK/$name.forge.stderr" &
  BG_PIDS+=($!)
  wait_file "$WORK/$name.forge-ready" 10
}

client_run() {
  local name=$1
  in_c $PY "$EP" client "$name" "$WORK" 2>"$WORK/$name.client.stderr" || {
    log "client failed:"; cat "$WORK/$name.client.stderr" >&2; return 1; }
}

client_start() {
  local name=$1
  ip netns exec $NS_C $PY "$EP" client "$name" "$WORK" 2>"$WORK/$name.client.stderr" &
  CLIENT_PID=$!
  BG_PIDS+=($!)
}

client_wait() {
  wait "$CLIENT_PID" || { log "client failed:"; cat "$WORK/$1.client.stderr" >&2; return 1; }
}

# ------------------------------------------------------------------ scenarios

sc_refused() {  # nothing listens on port 9
  cap_start refused
  client_run refused
  cap_stop
}

sc_simple() {  # server + client, nothing else
  local name=$1
  server_start "$name"
  cap_start "$name"
  client_run "$name"
  cap_stop
}

sc_abortive_close() { sc_simple abortive_close; }
sc_data_after_close() { sc_simple data_after_close; }
sc_everyday() { sc_simple everyday; }

sc_idle_timeout() {
  # A stateful firewall that forgets established connections after 2 s idle, and answers
  # segments of connections it does not know with a forged RST.
  in_r iptables -A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
  in_r iptables -A FORWARD -i r1 -p tcp --syn -m conntrack --ctstate NEW -j ACCEPT
  in_r iptables -A FORWARD -p tcp -j REJECT --reject-with tcp-reset
  in_r sysctl -qw net.netfilter.nf_conntrack_tcp_timeout_established=2
  sc_simple idle_timeout
  in_r iptables -S FORWARD -v > "$WORK/idle_timeout.iptables" 2>&1 || true
  in_r iptables -L FORWARD -v -n -x > "$WORK/idle_timeout.iptables.counters" 2>&1 || true
}

sc_middlebox_reject() {
  # A content filter: a request for /admin is answered with a forged RST.
  in_r iptables -A FORWARD -i r1 -p tcp --dport 8080 -m string --string "GET /admin" --algo bm \
    -j REJECT --reject-with tcp-reset
  sc_simple middlebox_reject
  in_r iptables -L FORWARD -v -n -x > "$WORK/middlebox_reject.iptables.counters" 2>&1 || true
}

sc_middlebox_inject() {
  # An on-path injector: when a response mentions "forbidden", RST both ends (20 ms later,
  # after the real response has been forwarded).
  server_start middlebox_inject
  forge_start middlebox_inject inject r2 forbidden 0.02
  cap_start middlebox_inject
  client_run middlebox_inject
  cap_stop
}

sc_mass_reset() {
  local name=mass_reset
  server_start $name
  cap_start $name
  client_start $name
  wait_file "$WORK/$name.kill-now" 20
  kill -9 "$SERVER_PID"
  wait "$SERVER_PID" 2>/dev/null || true
  touch "$WORK/$name.killed"
  client_wait $name
  cap_stop
}

sc_retransmission_timeout() {
  local name=retransmission_timeout
  # The client's stack gives up after 3 retransmissions (about 3 s) instead of 15.
  in_c sysctl -qw net.ipv4.tcp_retries2=3
  server_start $name
  cap_start $name
  client_start $name
  wait_file "$WORK/$name.blackhole-now" 10
  # The path turns into a black hole for this connection, both directions.
  in_r iptables -I FORWARD -p tcp --sport 40701 -j DROP
  in_r iptables -I FORWARD -p tcp --dport 40701 -j DROP
  touch "$WORK/$name.blackholed"
  wait_file "$WORK/$name.client-gave-up" 40
  in_r iptables -L FORWARD -v -n -x > "$WORK/$name.iptables.counters" 2>&1 || true
  # The path heals; the server, which never noticed, sends a heartbeat.
  in_r iptables -F FORWARD
  sleep 0.2
  touch "$WORK/$name.healed"
  client_wait $name
  sleep 0.5
  cap_stop
}

sc_zero_window_stall() { sc_simple zero_window_stall; }

sc_out_of_window() {
  server_start out_of_window
  forge_start out_of_window oow r1 "GET /3 "
  cap_start out_of_window
  client_run out_of_window
  cap_stop
}

sc_after_close() {
  server_start after_close
  # Replay the client's request 1 s later, after both ends have closed.
  forge_start after_close replay r1 "GET /once" 1.0
  cap_start after_close
  client_run after_close
  sleep 1.3
  cap_stop
}

sc_syn_timeout() {
  in_c sysctl -qw net.ipv4.tcp_syn_retries=1
  in_r iptables -A FORWARD -p tcp --syn --dport 8080 -j DROP
  sc_simple syn_timeout
}

sc_random_loss() {
  in_r iptables -A FORWARD -p tcp -m statistic --mode random --probability 0.1 -j DROP
  sc_simple random_loss
  in_r iptables -L FORWARD -v -n -x > "$WORK/random_loss.iptables.counters" 2>&1 || true
}

# ------------------------------------------------------------------ main

mkdir -p "$OUT"
SCENARIOS=("$@")
[ ${#SCENARIOS[@]} -gt 0 ] || SCENARIOS=("${ALL_SCENARIOS[@]}")
START=$(date +%s)
for name in "${SCENARIOS[@]}"; do
  declare -F "sc_$name" >/dev/null || { echo "unknown scenario $name" >&2; exit 2; }
done
for name in "${SCENARIOS[@]}"; do
  t=$EPOCHREALTIME
  setup
  "sc_$name"
  teardown
  log "$name: $(awk -v a="$t" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s"
done
log "captures done in $(( $(date +%s) - START )) s; verifying and writing truth.json"
$PY "$HERE/truth.py" "$OUT" "$WORK" "${SCENARIOS[@]}"
# Only a fully verified run replaces the fixtures.
for name in "${SCENARIOS[@]}"; do
  cp "$WORK/$name.client.pcap" "$WORK/$name.server.pcap" "$OUT/"
done
cp "$WORK/truth.json" "$OUT/truth.json"
log "wrote ${#SCENARIOS[@]} scenarios to $OUT"
