#!/usr/bin/env bash
# Record real Linux-kernel captures of TCP teardown scenarios for lastack.
#
#   sudo samples/real/record.sh [scenario ...]      (default: all scenarios)
#
# Topology (recreated for every scenario, so per-namespace sysctls start from defaults):
#   ns lsk-c (c0 10.77.1.2, fd77:1::2) <-> ns lsk-r (r_c | r_s, forwarding) <-> ns lsk-s (s0 10.77.2.2, fd77:2::2)
# Captures: <scenario>.client.pcap (tcpdump on c0, near the client) and <scenario>.server.pcap
# (tcpdump on s0, near the server); snaplen 128, filter "tcp". Packets dropped by the nft rules in
# the router's forward hook are therefore seen only in the capture of the sending side.
# Needs root, iproute2, nftables, ethtool, tcpdump, python3. Touches nothing outside the lsk-*
# namespaces; they are deleted on exit.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-$HERE}
PEER="$HERE/peer.py"
NC=lsk-c; NR=lsk-r; NS=lsk-s
C4=10.77.1.2; RC4=10.77.1.1; RS4=10.77.2.1; S4=10.77.2.2
C6=fd77:1::2; RC6=fd77:1::1; RS6=fd77:2::1; S6=fd77:2::2
PORT=8080
TMP=$(mktemp -d /tmp/lsk-rec.XXXXXX)
PIDS=()

ALL="client_close server_close half_close simultaneous_close lost_final_ack lost_final_ack_x3
no_time_wait_rst data_after_close linger_zero first_fin_lost reuse_client_active
reuse_server_active syn_in_last_ack stale_segment_ts stale_segment_nots ipv6_lost_final_ack
keepalive zero_window orphan_fin_wait2_rst stale_segment_nots_badack port_exhaustion
port_exhaustion_tw_reuse server_close_many"

log() { echo "[record $(date +%T.%N | cut -c1-12)] $*" >&2; }

kill_pids() {
    local p
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null
    done
    PIDS=()
}

teardown() {
    kill_pids
    local n
    for n in $NC $NR $NS; do ip netns del "$n" 2>/dev/null; done
    return 0
}

cleanup() { teardown; rm -rf "$TMP"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

ns() { local n=$1; shift; ip netns exec "$n" "$@"; }

setup() {
    teardown
    ip netns add $NC && ip netns add $NR && ip netns add $NS || return 1
    ip link add c0 netns $NC type veth peer name r_c netns $NR
    ip link add s0 netns $NS type veth peer name r_s netns $NR
    local n d
    for n in $NC $NR $NS; do ns $n ip link set lo up; done
    ns $NC ip addr add $C4/24 dev c0
    ns $NC ip -6 addr add $C6/64 dev c0 nodad
    ns $NR ip addr add $RC4/24 dev r_c
    ns $NR ip -6 addr add $RC6/64 dev r_c nodad
    ns $NR ip addr add $RS4/24 dev r_s
    ns $NR ip -6 addr add $RS6/64 dev r_s nodad
    ns $NS ip addr add $S4/24 dev s0
    ns $NS ip -6 addr add $S6/64 dev s0 nodad
    for d in "$NC c0" "$NR r_c" "$NR r_s" "$NS s0"; do
        set -- $d
        ns $1 ethtool -K $2 tso off gso off gro off tx off >/dev/null 2>&1
        ns $1 ip link set $2 up
    done
    ns $NC ip route add default via $RC4
    ns $NC ip -6 route add default via $RC6
    ns $NS ip route add default via $RS4
    ns $NS ip -6 route add default via $RS6
    ns $NR sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
    # resolve neighbours before the captures start, so no scenario waits on ARP/ND
    ns $NC ping -c1 -W1 $S4 >/dev/null 2>&1
    ns $NC ping -6 -c1 -W1 $S6 >/dev/null 2>&1 || { sleep 0.5; ns $NC ping -6 -c1 -W1 $S6 >/dev/null 2>&1; }
    return 0
}

# nft in the router's forward hook. $1 = rules for chain fwd (one per line).
router_nft() {
    ns $NR nft -f - <<EOF
table inet lsk {
    set finseen4 { type ipv4_addr . inet_service; flags dynamic; }
    set finseen6 { type ipv6_addr . inet_service; flags dynamic; }
    chain lskfwd {
        type filter hook forward priority 0; policy accept;
$1
    }
}
EOF
}

# Rules: drop the client's pure ACKs that follow the server's FIN (= the final ACK and, later,
# the TIME_WAIT re-ACKs), at most $1 packets. A quota counts bytes: pure ACKs with timestamps
# are $2 bytes long (IPv4 52, IPv6 72); "quota until" matches while used < limit.
drop_final_ack_rules4() {
    local k=$1 len=${2:-52}
    cat <<EOF
        ip saddr $S4 tcp sport $PORT tcp flags & fin == fin add @finseen4 { ip daddr . tcp dport }
        ip saddr $C4 tcp dport $PORT tcp flags == ack ip saddr . tcp sport @finseen4 quota until $((k * len + 1)) bytes counter drop
EOF
}

start_captures() { # $1 = scenario
    local name=$1 side dev n
    rm -f "$OUT/$name.client.pcap" "$OUT/$name.server.pcap"
    for side in client server; do
        if [ $side = client ]; then n=$NC; dev=c0; else n=$NS; dev=s0; fi
        ns $n tcpdump -i $dev -s "$SNAPLEN" -U --immediate-mode -Z root -w "$OUT/$name.$side.pcap" tcp 2>"$TMP/tcpdump.$side" &
        PIDS+=($!)
    done
    for side in client server; do
        for _ in $(seq 50); do grep -q "listening on" "$TMP/tcpdump.$side" 2>/dev/null && break; sleep 0.1; done
    done
}

stop_all() { sleep ${1:-0.3}; kill_pids; }

wait_file() { for _ in $(seq 50); do [ -e "$1" ] && return 0; sleep 0.1; done; log "timeout waiting for $1"; return 1; }

# start a server in lsk-s; args passed to peer.py server
server_bg() {
    rm -f "$TMP/ready"
    ns $NS python3 "$PEER" server --ready-file "$TMP/ready" "$@" 2>>"$TMP/log" &
    PIDS+=($!)
    wait_file "$TMP/ready"
}
client_run() { timeout 30 ip netns exec $NC python3 "$PEER" client "$@" 2>>"$TMP/log"; }
wait_server() { # wait (bounded) for the last server started to exit
    local p=${PIDS[-1]}
    for _ in $(seq ${1:-100}); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
}

# ------------------------------------------------------------------ scenarios
sc_client_close() {
    server_bg --addr $S4 --do recv:200,send:1000,recv_eof,sleep:0.05,close
    client_run --addr $S4 --do send:200,recv:1000,sleep:0.05,close
    wait_server
}


sc_server_close() {   # HTTP/1.0 style: the server closes first, three connections
    server_bg --addr $S4 --count 3 --do recv:200,send:2000,close
    client_run --addr $S4 --count 3 --gap 0.2 --do send:200,recv_eof,sleep:0.02,close
    wait_server
}

sc_half_close() {
    server_bg --addr $S4 --do recv:200,chunks:1000:5:0.05,recv_eof,sleep:0.02,close
    client_run --addr $S4 --do send:200,shut_wr,recv_eof,close
    wait_server
}

# FINs cross: the router relays with 20 ms one-way delay (userspace relay, kernel forwarding of
# TCP blocked) and both ends close() at the same absolute time.
pre_simultaneous_close() {
    router_nft "        meta l4proto tcp drop"
    local mc ms
    mc=$(ns $NC cat /sys/class/net/c0/address); ms=$(ns $NS cat /sys/class/net/s0/address)
    rm -f "$TMP/relay"
    ns $NR python3 "$PEER" relay --delay 0.02 --timeout 60 --ready-file "$TMP/relay" \
        --ends "r_c=$mc=10.77.1." "r_s=$ms=10.77.2." 2>>"$TMP/log" &
    RELAY=$!
    wait_file "$TMP/relay"
}
sc_simultaneous_close() {
    local t0; t0=$(python3 -c 'import time; print(time.time())')
    server_bg --addr $S4 --t0 $t0 --do recv:200,send:1000,until:1.0,close
    client_run --addr $S4 --t0 $t0 --do send:200,recv:1000,until:1.0,close
    wait_server
    sleep 0.3
    kill -TERM $RELAY 2>/dev/null; wait $RELAY 2>/dev/null
}

lfa_peers() { # $1 = server address
    server_bg --addr $1 --do recv:200,send:1000,recv_eof,sleep:0.05,close
    client_run --addr $1 --do send:200,recv:1000,sleep:0.02,close
    wait_server
}
pre_lost_final_ack() { router_nft "$(drop_final_ack_rules4 1)"; }
sc_lost_final_ack() { lfa_peers $S4; sleep 0.8; }

pre_lost_final_ack_x3() { router_nft "$(drop_final_ack_rules4 3)"; }
sc_lost_final_ack_x3() { lfa_peers $S4; sleep 2.5; }

pre_no_time_wait_rst() {
    ns $NC sysctl -qw net.ipv4.tcp_max_tw_buckets=0
    router_nft "$(drop_final_ack_rules4 1)"
}
sc_no_time_wait_rst() { # the client keeps its socket open until EOF: FIN_WAIT_2 state exists,
    # the TIME_WAIT after the final ACK does not
    server_bg --addr $S4 --do recv:200,send:1000,recv_eof,sleep:0.05,close
    client_run --addr $S4 --do send:200,recv:1000,sleep:0.02,shut_wr,recv_eof,close
    wait_server
    sleep 0.8
}

# bonus: same sysctl, but the client close()s (orphan): with tcp_max_tw_buckets=0 Linux keeps no
# orphaned FIN_WAIT_2 either, so the server's *first* FIN draws the RST (nothing is dropped)
pre_orphan_fin_wait2_rst() { ns $NC sysctl -qw net.ipv4.tcp_max_tw_buckets=0; }
sc_orphan_fin_wait2_rst() { lfa_peers $S4; sleep 0.5; }

pre_ipv6_lost_final_ack() {
    router_nft "        ip6 saddr $S6 tcp sport $PORT tcp flags & fin == fin add @finseen6 { ip6 daddr . tcp dport }
        ip6 saddr $C6 tcp dport $PORT tcp flags == ack ip6 saddr . tcp sport @finseen6 quota until 73 bytes counter drop"
}
sc_ipv6_lost_final_ack() { lfa_peers $S6; sleep 0.8; }

sc_data_after_close() {
    server_bg --addr $S4 --do recv:200,send:1000,sleep:0.1,send:1000,sleep:0.1,send:1000,sleep:0.05,close
    client_run --addr $S4 --do send:200,recv:1000,close
    wait_server
}

sc_linger_zero() {
    server_bg --addr $S4 --do recv:200,chunks:1000:8:0.05,close
    client_run --addr $S4 --do send:200,recv:2000,linger0,close
    wait_server
}

# the server closes first; its first FIN (pure FIN/ACK, 52 bytes) is dropped once
pre_first_fin_lost() {
    router_nft "        ip saddr $S4 tcp sport $PORT tcp flags & fin == fin quota until 53 bytes counter drop"
}
sc_first_fin_lost() {
    server_bg --addr $S4 --do recv:200,send:1000,sleep:0.1,close
    client_run --addr $S4 --do send:200,recv_eof,sleep:0.05,close
    wait_server
    sleep 0.3
}

# client closes first (client TIME_WAIT), reconnects from the same fixed port 1 s later.
# Found on 6.18: with an explicitly bound port (SO_REUSEADDR) connect() takes over the client's
# own TIME_WAIT whenever that TIME_WAIT saw timestamps, at once and whatever tcp_tw_reuse says
# (tcp_tw_reuse and its 1 s delay only govern ephemeral-port selection); with
# tcp_timestamps=0 the same connect() fails with EADDRNOTAVAIL until the TIME_WAIT ends.
sc_reuse_client_active() {
    server_bg --addr $S4 --count 2 --do recv:200,send:1000,recv_eof,sleep:0.02,close
    client_run --addr $S4 --sport 40000 --reuseaddr --count 2 --gap 1.0 --retry-for 5 \
        --do send:200,recv:1000,sleep:0.02,close
    wait_server
}

# server closes first (server TIME_WAIT); the client reconnects from the same port 0.5 s later
sc_reuse_server_active() {
    server_bg --addr $S4 --count 2 --do recv:200,send:1000,sleep:0.02,close
    client_run --addr $S4 --sport 40001 --reuseaddr --count 2 --gap 0.5 \
        --do send:200,recv_eof,sleep:0.02,close
    wait_server
}

# client closes first without TIME_WAIT (tcp_max_tw_buckets=0), its final ACK is dropped, and it
# reconnects from the same port at once: the SYN meets the server in LAST_ACK.
pre_syn_in_last_ack() {
    ns $NC sysctl -qw net.ipv4.tcp_max_tw_buckets=0
    router_nft "$(drop_final_ack_rules4 1)"
}
sc_syn_in_last_ack() {
    server_bg --addr $S4 --count 2 --do recv:200,send:1000,recv_eof,close
    client_run --addr $S4 --sport 40002 --reuseaddr --count 2 --gap 0 \
        --do send:200,recv:1000,shut_wr,recv_eof,close
    wait_server
    sleep 0.3
}

# Old segment re-injected into the next incarnation (see peer.py stale). The client closes first
# without TIME_WAIT (tcp_max_tw_buckets=0) and reconnects from the same port at once.
stale_common() { # $1 = scenario, $2 = align mode
    ns $NC sysctl -qw net.ipv4.tcp_max_tw_buckets=0
    rm -f "$TMP/stale"
    server_bg --addr $S4 --count 2 --do send:100000,recv_eof,close \
        --do2 fill,recv_eof,close
    timeout 30 ip netns exec $NC python3 "$PEER" stale --addr $S4 --sport 40003 --reuseaddr \
        --ifname c0 --old-bytes 100000 --align $2 --result-file "$TMP/stale" 2>>"$TMP/log"
    wait_server
    sleep 0.3
}
check_stale_common() { grep -q "aligned=yes" "$TMP/stale"; }
sc_stale_segment_ts() { stale_common stale_segment_ts both; }
check_stale_segment_ts() { check_stale_common; }
pre_stale_segment_nots() {
    ns $NC sysctl -qw net.ipv4.tcp_timestamps=0
    ns $NS sysctl -qw net.ipv4.tcp_timestamps=0
}
sc_stale_segment_nots() { stale_common stale_segment_nots both; }
check_stale_segment_nots() { check_stale_common && grep -q "bytes of old-incarnation data" <(grep "accepted 2" -A20 "$TMP/log"); }
# bonus: timestamps off, seq at rcv_nxt but no server filler: the old ack lies beyond the server's
# snd_nxt in the new incarnation (it acks data never sent there), so Linux drops the segment and
# answers with an ACK
pre_stale_segment_nots_badack() { pre_stale_segment_nots; }
sc_stale_segment_nots_badack() { stale_common stale_segment_nots_badack seq; }
check_stale_segment_nots_badack() { check_stale_common; }

sc_keepalive() {
    server_bg --addr $S4 --do recv:200,send:1000,recv_eof,sleep:0.02,close
    client_run --addr $S4 --keepalive 1,1,3 --do send:200,recv:1000,sleep:3.6,close
    wait_server
}

sc_zero_window() {
    server_bg --addr $S4 --rcvbuf 2048 --do sleep:2.0,recv_eof,sleep:0.02,close
    client_run --addr $S4 --do send:20000,shut_wr,recv_eof,close
    wait_server
}

# ---- TIME_WAIT pressure (many short connections; snaplen 96, 10-byte payloads)
# The client ns narrows its ephemeral range to 64 ports and opens short connections to one server
# port, the client closing first, faster than TIME_WAIT (60 s) frees them: the 65th connect()
# fails with EADDRNOTAVAIL and the client stops (bounded: at most 100 attempts).
TW_RANGE="40000 40063"
pre_port_exhaustion() {
    SNAPLEN=96
    ns $NC sysctl -qw net.ipv4.ip_local_port_range="$TW_RANGE"
}
sc_port_exhaustion() {
    server_bg --addr $S4 --count 100 --timeout 2 --do recv:10,send:10,recv_eof,close
    client_run --addr $S4 --count 100 --retry-for 0 --stop-on-eaddrnotavail \
        --do send:10,recv:10,close
    wait_server 40
}
# Same with tcp_tw_reuse=1 (timestamps are on by default): once all 64 ports are in TIME_WAIT,
# connect() fails until a TIME_WAIT is ~1 s old (the kernel's check has 1 s granularity), then
# takes it over: 80 connections, the last 16 reuse a four-tuple (retry every 0.1 s, at most 5 s).
pre_port_exhaustion_tw_reuse() {
    SNAPLEN=96
    ns $NC sysctl -qw net.ipv4.ip_local_port_range="$TW_RANGE" net.ipv4.tcp_tw_reuse=1
}
sc_port_exhaustion_tw_reuse() {
    server_bg --addr $S4 --count 80 --timeout 5 --do recv:10,send:10,recv_eof,close
    client_run --addr $S4 --count 80 --retry-for 5 --do send:10,recv:10,close
    wait_server 60
}
# HTTP/1.0 style at volume: 200 short connections, the server closes first (server TIME_WAIT).
pre_server_close_many() { SNAPLEN=96; }
sc_server_close_many() {
    server_bg --addr $S4 --count 200 --timeout 5 --do recv:10,send:10,close
    client_run --addr $S4 --count 200 --do send:10,recv_eof,close
    wait_server 60
}

# ------------------------------------------------------------------ checks (tshark display filters)
# expect <file suffix> <filter> <min> [max]: number of matching frames in $OUT/$CUR.<suffix>.pcap
expect() {
    local f="$OUT/$CUR.$1.pcap" n
    n=$(tshark -r "$f" -Y "$2" 2>/dev/null | wc -l)
    if [ "$n" -ge "$3" ] && [ "$n" -le "${4:-999999}" ]; then return 0; fi
    log "check $CUR.$1: '$2' matched $n frames, want $3..${4:-any}"; return 1
}
SFIN="tcp.srcport==$PORT && tcp.flags.fin==1"; CFIN="tcp.dstport==$PORT && tcp.flags.fin==1"
SRST="tcp.srcport==$PORT && tcp.flags.reset==1"; CRST="tcp.dstport==$PORT && tcp.flags.reset==1"
CSYN="tcp.flags.syn==1 && tcp.flags.ack==0"
clean() { # $1 = connections: one FIN each way per connection, no RST, no retransmission
    local s
    for s in client server; do
        expect $s "$SFIN" $1 $1 && expect $s "$CFIN" $1 $1 && expect $s "tcp.flags.reset==1" 0 0 &&
            expect $s "tcp.analysis.retransmission" 0 0 || return 1
    done
}
check_client_close() { clean 1; }
check_server_close() { clean 3; }
check_half_close() { clean 1 && expect server "tcp.srcport==$PORT && tcp.len>0 && frame.number > $(first_frame server "$CFIN")" 3; }
first_frame() { tshark -r "$OUT/$CUR.$1.pcap" -Y "$2" -T fields -e frame.number 2>/dev/null | head -1; }
field_of() { tshark -r "$OUT/$CUR.$1.pcap" -Y "$2" -T fields -e "$3" 2>/dev/null | head -1; }
check_simultaneous_close() { # each FIN's ack does not cover the other side's FIN: they crossed
    clean 1 || return 1
    local cf sf; cf=$(field_of client "$CFIN" tcp.seq_raw); sf=$(field_of client "$SFIN" tcp.seq_raw)
    expect client "$SFIN && tcp.ack_raw==$cf" 1 1 && expect client "$CFIN && tcp.ack_raw==$sf" 1 1
}
lfa_check() { # $1 = drops, $2 = what answers the re-sent FIN (ack|rst)
    expect server "$SFIN" $(($1 + 1)) $(($1 + 1)) && expect client "$SFIN" $(($1 + 1)) $(($1 + 1)) || return 1
    if [ $2 = rst ]; then expect server "$CRST" 1 1; else expect server "tcp.flags.reset==1" 0 0; fi
}
check_lost_final_ack() { lfa_check 1 ack; }
check_lost_final_ack_x3() { lfa_check 3 ack; }
check_ipv6_lost_final_ack() { lfa_check 1 ack && expect server "ipv6" 10; }
check_no_time_wait_rst() { lfa_check 1 rst; }
check_orphan_fin_wait2_rst() { expect server "$SFIN" 1 1 && expect server "$CRST" 1 1; }
check_data_after_close() {
    expect server "$CRST && frame.number > $(first_frame server "$CFIN")" 1 &&
        expect server "tcp.srcport==$PORT && tcp.len>0 && frame.number > $(first_frame server "$CFIN")" 1
}
check_linger_zero() { expect client "$CFIN" 0 0 && expect client "$CRST" 1; }
check_first_fin_lost() { expect server "$SFIN" 2 2 && expect client "$SFIN" 1 1 && expect server "tcp.flags.reset==1" 0 0; }
reuse_check() { # $1 = connections on the fixed port
    expect server "$CSYN" $1 && expect server "tcp.flags.reset==1" 0 0 &&
        [ "$(tshark -r "$OUT/$CUR.server.pcap" -Y "$CSYN" -T fields -e tcp.srcport -e tcp.seq_raw 2>/dev/null | sort -u | wc -l)" -ge $1 ]
}
check_reuse_client_active() { reuse_check 2; }
check_reuse_server_active() { reuse_check 2; }
check_syn_in_last_ack() {
    local syn2; syn2=$(tshark -r "$OUT/$CUR.server.pcap" -Y "$CSYN" -T fields -e frame.number 2>/dev/null | sed -n 2p)
    [ -n "$syn2" ] && expect server "$CRST && frame.number > $syn2" 1 1 && expect server "$SFIN" 2 2
}
# n client SYNs with distinct four-tuples / reused ones, from the narrowed range, no RST
tw_syns() { tshark -r "$OUT/$CUR.$1.pcap" -Y "$CSYN" -T fields -e tcp.srcport 2>/dev/null; }
check_port_exhaustion() {
    local s
    for s in client server; do
        [ "$(tw_syns $s | sort -u | wc -l)" -eq 64 ] && [ "$(tw_syns $s | wc -l)" -eq 64 ] &&
            [ "$(tw_syns $s | awk '$1 < 40000 || $1 > 40063' | wc -l)" -eq 0 ] &&
            expect $s "tcp.flags.reset==1" 0 0 && expect $s "$CFIN" 64 64 || return 1
    done
    grep -q "EADDRNOTAVAIL" "$TMP/log"
}
check_port_exhaustion_tw_reuse() {
    local s
    for s in client server; do
        [ "$(tw_syns $s | sort -u | wc -l)" -eq 64 ] && [ "$(tw_syns $s | wc -l)" -eq 80 ] &&
            expect $s "tcp.flags.reset==1" 0 0 || return 1
    done
}
check_server_close_many() {
    local s
    for s in client server; do
        expect $s "$CSYN" 200 200 && expect $s "$SFIN" 200 200 && expect $s "tcp.flags.reset==1" 0 0 || return 1
    done
}
check_keepalive() { clean 1 && expect client "tcp.analysis.keep_alive" 2 && expect client "tcp.analysis.keep_alive_ack" 2; }
check_zero_window() { clean 1 && expect client "tcp.analysis.zero_window" 1 && expect client "tcp.analysis.keep_alive" 1; }  # Linux probes: len 0, seq = snd_una - 1

# ------------------------------------------------------------------ main
run_scenario() { # retried (at most 3 attempts) while check_<name> fails
    local name=$1 try
    for try in 1 2 3; do
        record_once "$name"
        declare -F "check_$name" >/dev/null || return 0
        CUR=$name
        if "check_$name"; then log "$name: check passed"; return 0; fi
        log "$name: check failed (attempt $try)"
    done
    log "$name: GAVE UP - capture does not show the scenario"
}

record_once() {
    local name=$1
    log "=== $name"
    SNAPLEN=128   # a pre_<name> may lower it (many-connection scenarios keep their files small)
    : >"$TMP/log"
    setup || { log "setup failed"; return 1; }
    if declare -F "pre_$name" >/dev/null; then "pre_$name" || log "pre_$name failed"; fi
    start_captures "$name"
    "sc_$name"
    stop_all
    if [ -s "$TMP/log" ]; then sed "s/^/    /" "$TMP/log" >&2; fi
    local nft_out; nft_out=$(ns $NR nft list ruleset 2>/dev/null | grep -o 'packets [0-9]* bytes [0-9]*' | head -3 | tr '\n' ' ')
    [ -n "$nft_out" ] && log "$name: router drop counter: $nft_out"
    teardown
    log "$name: $(tcpdump -r "$OUT/$name.client.pcap" 2>/dev/null | wc -l) client-side, $(tcpdump -r "$OUT/$name.server.pcap" 2>/dev/null | wc -l) server-side packets"
}

[ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 1; }
list=${*:-$ALL}
for s in $list; do
    declare -F "sc_$s" >/dev/null || { log "unknown scenario $s"; exit 2; }
done
for s in $list; do run_scenario "$s"; done
