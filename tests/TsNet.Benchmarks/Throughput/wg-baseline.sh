#!/usr/bin/env bash
# Throughput baseline for TsNet comparisons: stock wireguard-go <-> wireguard-go, one TCP stream (iperf3) in each
# direction. Topology as in docs/interop.md and the interop harness: both wireguard-go processes run in the ROOT
# namespace (UDP on 127.0.0.1), each TUN is moved into a namespace of its own (MTU 1420) where the kernel's TCP runs.
#
#   ns tsnbl<pid>a: TUN 100.64.0.1/24 - wireguard-go a ==UDP 127.0.0.1== wireguard-go b - ns tsnbl<pid>b: TUN 100.64.0.2/24
#
# Usage (root):  tests/TsNet.Benchmarks/Throughput/wg-baseline.sh [-t SECONDS] [-C CONGESTION] [--loss PERCENT] [--mtu MTU]
#   -t SECONDS       iperf3 duration per direction (default 10)
#   -C CONGESTION    TCP congestion control for iperf3 (default: the namespaces' default, printed)
#   --loss PERCENT   drop that share of the underlay UDP datagrams (nftables on the loopback input hook, both ports)
#   --mtu MTU        TUN MTU (default 1420)
#   --ping COUNT     first, COUNT overlay pings (every 10 ms) b -> a; prints "ping rtt ms min/avg/max/mdev"
# Prints one line per direction, e.g. "b->a  0.52 Gbit/s  (sender 0.53 Gbit/s, 12 retransmits)", and a "cpu:" line
# after it (see cpu_report in common.sh). Everything it creates
# (processes, namespaces, wg sockets, nft table, temp files) is removed on exit, also on Ctrl-C, SIGTERM or failure.
set -euo pipefail

seconds=10
congestion=""
loss=0
mtu=1420
pings=0
while [ $# -gt 0 ]; do
    case "$1" in
        -t) seconds="$2"; shift 2 ;;
        -C) congestion="$2"; shift 2 ;;
        --loss) loss="$2"; shift 2 ;;
        --mtu) mtu="$2"; shift 2 ;;
        --ping) pings="$2"; shift 2 ;;
        -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
require_root_and_tools wireguard-go wg ip iperf3 ss ping
[ "$loss" = 0 ] || require_root_and_tools nft

umask 077
wg genkey >"$work/key-a"
wg genkey >"$work/key-b"
pub_a="$(wg pubkey <"$work/key-a")"
pub_b="$(wg pubkey <"$work/key-b")"
port_a="$(free_udp_port)"
port_b="$(free_udp_port)"
while [ "$port_b" = "$port_a" ]; do port_b="$(free_udp_port)"; done

start_wg_peer a 100.64.0.1/24 "$port_a" "$work/key-a" "$pub_b" "$port_b" 100.64.0.2/32 "$mtu"
start_wg_peer b 100.64.0.2/24 "$port_b" "$work/key-b" "$pub_a" "$port_a" 100.64.0.1/32 "$mtu"
ip netns exec "${tag}b" ping -c 2 -i 0.2 -w 10 -q 100.64.0.1 >/dev/null || { echo "no ping across the tunnel" >&2; exit 1; }
[ "$loss" = 0 ] || add_underlay_loss "$loss" "$port_a" "$port_b"
if [ "$pings" != 0 ]; then
    summary="$(ip netns exec "${tag}b" ping -c "$pings" -i 0.01 -w $(( pings / 50 + 30 )) -q 100.64.0.1 | awk -F' = ' '/^rtt/ { print $2 }')"
    echo "ping rtt ms min/avg/max/mdev ${summary%% ms}  (wireguard-go <-> wireguard-go, ${pings} pings)"
fi

ip netns exec "${tag}a" iperf3 -s -B 100.64.0.1 -p 5201 >"$work/iperf3-server.log" 2>&1 &
background+=($!)
wait_for 10 "iperf3 server" bash -c "[ -n \"\$(ip netns exec ${tag}a ss -Hltn 'sport = :5201')\" ]"

cc_default="$(ip netns exec "${tag}b" sysctl -n net.ipv4.tcp_congestion_control)"
echo "wireguard-go $(wireguard-go --version 2>/dev/null | head -n 1 | awk '{print $2}') <-> wireguard-go, UDP on 127.0.0.1, TUN MTU ${mtu}, iperf3 $(iperf3 --version | head -n 1 | awk '{print $2}'), one TCP stream, ${seconds} s, congestion ${congestion:-$cc_default}, underlay loss ${loss} %, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"

run_direction() {
    # run_direction LABEL [-R]: iperf3 client in namespace b against a; -R makes a the sender.
    local label=$1
    shift
    local args=(-c 100.64.0.1 -p 5201 -t "$seconds" -f g "$@")
    [ -n "$congestion" ] && args+=(-C "$congestion")
    local out cpu_before
    cpu_pids=("${wgpid[a]}" "${wgpid[b]}")
    cpu_before="$(cpu_mark)"
    out="$(timeout $(( seconds + 30 )) ip netns exec "${tag}b" iperf3 "${args[@]}")" || { echo "iperf3 ${label} failed:" >&2; echo "$out" >&2; return 1; }
    local receiver sender retransmits
    receiver="$(awk '/receiver$/ { for (i = 1; i <= NF; i++) if ($i == "Gbits/sec") print $(i - 1) }' <<<"$out" | tail -n 1)"
    sender="$(awk '/sender$/ { for (i = 1; i <= NF; i++) if ($i == "Gbits/sec") print $(i - 1) }' <<<"$out" | tail -n 1)"
    retransmits="$(awk '/sender$/ { for (i = 1; i <= NF; i++) if ($i == "Gbits/sec") print $(i + 1) }' <<<"$out" | tail -n 1)"
    printf '%s  %s Gbit/s  (sender %s Gbit/s, %s retransmits)\n' "$label" "${receiver:-?}" "${sender:-?}" "${retransmits:-?}"
    cpu_report "$cpu_before" "$(awk -v g="${receiver:-0}" -v t="$seconds" 'BEGIN { printf "%.0f", g * 1e9 / 8 * t }')" wireguard-go-a wireguard-go-b
}

run_direction "b->a"
run_direction "a->b" -R
[ -z "$nft_table" ] || echo "underlay datagrams dropped: $(underlay_dropped)"
