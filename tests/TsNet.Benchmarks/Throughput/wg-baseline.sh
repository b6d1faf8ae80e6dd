#!/usr/bin/env bash
# Throughput baseline for TsNet comparisons: stock wireguard-go <-> wireguard-go, one TCP stream (iperf3) in each
# direction. Topology as in docs/interop.md and the interop harness: both wireguard-go processes run in the ROOT
# namespace (UDP on 127.0.0.1), each TUN is moved into a namespace of its own (MTU 1420) where the kernel's TCP runs.
#
#   ns tsnbl<pid>a: TUN 100.64.0.1/24  <- wireguard-go A  --UDP 127.0.0.1-->  wireguard-go B -> ns tsnbl<pid>b: TUN 100.64.0.2/24
#
# Usage (root):  tests/TsNet.Benchmarks/Throughput/wg-baseline.sh [-t SECONDS] [-C CONGESTION] [--loss PERCENT] [--mtu MTU]
#   -t SECONDS       iperf3 duration per direction (default 10)
#   -C CONGESTION    TCP congestion control for iperf3 (default: the namespaces' default, printed)
#   --loss PERCENT   drop that share of the underlay UDP datagrams (nftables on the loopback input hook, both ports)
#   --mtu MTU        TUN MTU (default 1420)
# Prints one line per direction, e.g. "b->a  0.52 Gbit/s  (sender 0.53 Gbit/s, 12 retransmits)". Everything it creates
# (processes, namespaces, wg sockets, nft table, temp files) is removed on exit, also on Ctrl-C or failure.
set -euo pipefail

seconds=10
congestion=""
loss=0
mtu=1420
while [ $# -gt 0 ]; do
    case "$1" in
        -t) seconds="$2"; shift 2 ;;
        -C) congestion="$2"; shift 2 ;;
        --loss) loss="$2"; shift 2 ;;
        --mtu) mtu="$2"; shift 2 ;;
        -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done

if [ "$(id -u)" -ne 0 ]; then
    echo "needs root (namespaces, TUN devices)" >&2
    exit 2
fi
for tool in wireguard-go wg ip iperf3 ss; do
    command -v "$tool" >/dev/null 2>&1 || { echo "missing tool: $tool (apt-get install wireguard-go wireguard-tools iproute2 iperf3)" >&2; exit 2; }
done
if [ "$loss" != 0 ]; then
    command -v nft >/dev/null 2>&1 || { echo "--loss needs nft (apt-get install nftables)" >&2; exit 2; }
fi

# Names: tsnbl + our pid + a/b (at most 15 characters for a TUN). Not the interop harness's "tsnit" prefix, whose
# cleaner would take a bash owner for a dead test host.
tag="tsnbl$$"
sockdir=/var/run/wireguard
work="$(mktemp -d /tmp/${tag}.XXXXXX)"
declare -A wgpid=()
iperfpid=""
nft_table=""

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

cleanup() {
    local status=$?
    set +e
    [ -n "$iperfpid" ] && kill "$iperfpid" 2>/dev/null && wait "$iperfpid" 2>/dev/null
    for side in a b; do
        local ns="${tag}${side}"
        if ip netns list 2>/dev/null | grep -qw "$ns"; then
            for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
        fi
    done
    for side in "${!wgpid[@]}"; do
        local pid="${wgpid[$side]}"
        kill "$pid" 2>/dev/null
        for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    for side in a b; do
        ip netns del "${tag}${side}" 2>/dev/null
        rm -f "${sockdir}/${tag}${side}.sock"
    done
    [ -n "$nft_table" ] && nft delete table inet "$nft_table" 2>/dev/null
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_udp_port() {
    # Below the ephemeral range, so nothing bound to port 0 takes it between the check and wireguard-go's bind.
    local port
    for _ in $(seq 200); do
        port=$(( 20000 + RANDOM % 12000 ))
        if [ -z "$(ss -Hlun "sport = :$port")" ]; then echo "$port"; return; fi
    done
    echo "no free UDP port found" >&2
    return 1
}

wait_for() {
    # wait_for SECONDS DESCRIPTION COMMAND...: poll every 0.1 s.
    local limit=$1 what=$2
    shift 2
    for _ in $(seq $(( limit * 10 ))); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.1
    done
    echo "timed out after ${limit} s waiting for ${what}" >&2
    return 1
}

start_peer() {
    # start_peer SIDE ADDRESS PORT PEER_PUBLIC PEER_PORT PEER_ADDRESS
    local side=$1 address=$2 port=$3 peer_public=$4 peer_port=$5 peer_address=$6
    local ns="${tag}${side}" tun="${tag}${side}"
    rm -f "${sockdir}/${tun}.sock"
    WG_PROCESS_FOREGROUND=1 LOG_LEVEL=error wireguard-go -f "$tun" >"$work/wg-${side}.log" 2>&1 &
    wgpid[$side]=$!
    wait_for 10 "wireguard-go ${tun} socket" test -S "${sockdir}/${tun}.sock"
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip link set "$tun" netns "$ns"
    wg set "$tun" private-key "$work/key-${side}" listen-port "$port" \
        peer "$peer_public" endpoint "127.0.0.1:${peer_port}" allowed-ips "${peer_address}/32"
    ip -n "$ns" addr add "${address}/24" dev "$tun"
    ip -n "$ns" link set "$tun" mtu "$mtu" up
}

umask 077
wg genkey >"$work/key-a"
wg genkey >"$work/key-b"
pub_a="$(wg pubkey <"$work/key-a")"
pub_b="$(wg pubkey <"$work/key-b")"
port_a="$(free_udp_port)"
port_b="$(free_udp_port)"
while [ "$port_b" = "$port_a" ]; do port_b="$(free_udp_port)"; done

start_peer a 100.64.0.1 "$port_a" "$pub_b" "$port_b" 100.64.0.2
start_peer b 100.64.0.2 "$port_b" "$pub_a" "$port_a" 100.64.0.1
ip netns exec "${tag}b" ping -c 2 -i 0.2 -w 10 -q 100.64.0.1 >/dev/null || { echo "no ping across the tunnel" >&2; exit 1; }

if [ "$loss" != 0 ]; then
    nft_table="${tag}loss"
    nft -f - <<EOF
table inet ${nft_table} {
  chain in {
    type filter hook input priority 0; policy accept;
    iifname "lo" udp dport { ${port_a}, ${port_b} } numgen random mod 100 < ${loss} counter drop
  }
}
EOF
fi

ip netns exec "${tag}a" iperf3 -s -B 100.64.0.1 -p 5201 >"$work/iperf3-server.log" 2>&1 &
iperfpid=$!
wait_for 10 "iperf3 server" bash -c "[ -n \"\$(ip netns exec ${tag}a ss -Hltn 'sport = :5201')\" ]"

cc_default="$(ip netns exec "${tag}b" sysctl -n net.ipv4.tcp_congestion_control)"
echo "wireguard-go $(wireguard-go --version 2>/dev/null | head -n 1 | awk '{print $2}') <-> wireguard-go, UDP on 127.0.0.1, TUN MTU ${mtu}, iperf3 $(iperf3 --version | head -n 1 | awk '{print $2}'), one TCP stream, ${seconds} s, congestion ${congestion:-$cc_default}, underlay loss ${loss} %, $(nproc) CPUs"

run_direction() {
    # run_direction LABEL [-R]: iperf3 client in namespace b against a; -R makes a the sender.
    local label=$1
    shift
    local args=(-c 100.64.0.1 -p 5201 -t "$seconds" -f g "$@")
    [ -n "$congestion" ] && args+=(-C "$congestion")
    local out
    out="$(timeout $(( seconds + 30 )) ip netns exec "${tag}b" iperf3 "${args[@]}")" || { echo "iperf3 ${label} failed:" >&2; echo "$out" >&2; return 1; }
    echo "$out" >"$work/iperf3-${label}.log"
    local receiver sender retransmits
    receiver="$(awk '/receiver$/ { for (i = 1; i <= NF; i++) if ($i == "Gbits/sec") print $(i - 1) }' <<<"$out" | tail -n 1)"
    sender="$(awk '/sender$/ { for (i = 1; i <= NF; i++) if ($i == "Gbits/sec") print $(i - 1) }' <<<"$out" | tail -n 1)"
    retransmits="$(awk '/sender$/ { for (i = 1; i <= NF; i++) if ($i == "Gbits/sec") print $(i + 1) }' <<<"$out" | tail -n 1)"
    printf '%s  %s Gbit/s  (sender %s Gbit/s, %s retransmits)\n' "$label" "${receiver:-?}" "${sender:-?}" "${retransmits:-?}"
}

run_direction "b->a"
run_direction "a->b" -R
if [ -n "$nft_table" ]; then
    echo "underlay datagrams dropped: $(nft list table inet "$nft_table" | grep -o 'packets [0-9]*' | awk '{print $2}')"
fi
