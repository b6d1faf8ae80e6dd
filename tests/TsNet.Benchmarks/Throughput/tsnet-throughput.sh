#!/usr/bin/env bash
# TsNet throughput against the Linux kernel's TCP through a stock wireguard-go, the counterpart of wg-baseline.sh
# (run both in the same session and compare ratios). NEEDS THE TCP API of docs/api.md (ListenTcpAsync); until it is
# merged the TsNet side fails with NotImplementedException.
#
#   ns tsnbl<pid>a: TUN 100.64.0.1/24 - wireguard-go a ==UDP 127.0.0.1== TsNet node 100.64.0.2 (the benchmark exe's
#   "throughput" mode, in the root namespace)
#
# linux->tsnet: TsNet listens (--role sink); socat in the namespace sends /dev/zero for SECONDS; TsNet counts.
# tsnet->linux: TsNet listens (--role source) and sends for SECONDS, then FIN; socat in the namespace reads to the end.
# The rate is measured by TsNet, from accept to the end of the connection (for the sender: until the peer's FIN,
# i.e. everything delivered).
#
# Usage (root):  tests/TsNet.Benchmarks/Throughput/tsnet-throughput.sh [-t SECONDS] [--mtu TSNET_MTU] [--loss PERCENT] [--ping COUNT] [--no-build]
#   --mtu        TsNet's overlay MTU (default: TsNet's default, 1280); the wireguard-go TUN always has 1420
#   --ping COUNT first, COUNT overlay pings (every 10 ms) from the namespace to the TsNet node; prints "ping rtt ms
#                min/avg/max/mdev" (compare with wg-baseline.sh --ping COUNT)
set -euo pipefail

seconds=10
tsnet_mtu=""
loss=0
build=1
pings=0
while [ $# -gt 0 ]; do
    case "$1" in
        -t) seconds="$2"; shift 2 ;;
        --mtu) tsnet_mtu="$2"; shift 2 ;;
        --loss) loss="$2"; shift 2 ;;
        --no-build) build=0; shift ;;
        --ping) pings="$2"; shift 2 ;;
        -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
project="$(cd "$here/.." && pwd)"
# shellcheck source=common.sh
source "$here/common.sh"
require_root_and_tools wireguard-go wg ip socat ss ping dotnet
[ "$loss" = 0 ] || require_root_and_tools nft

# Build outside any namespace (NuGet is not reachable from inside one).
if [ "$build" = 1 ]; then
    dotnet build "$project" -c Release --nologo -v quiet >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }
fi
dll="$project/bin/Release/net10.0/TsNet.Benchmarks.dll"
[ -f "$dll" ] || { echo "missing $dll (build tests/TsNet.Benchmarks -c Release)" >&2; exit 1; }

umask 077
wg genkey >"$work/key-a"
wg genkey >"$work/key-t"
pub_a="$(wg pubkey <"$work/key-a")"
pub_t="$(wg pubkey <"$work/key-t")"
port_a="$(free_udp_port)"
port_t="$(free_udp_port)"
while [ "$port_t" = "$port_a" ]; do port_t="$(free_udp_port)"; done

start_wg_peer a 100.64.0.1/24 "$port_a" "$work/key-a" "$pub_t" "$port_t" 100.64.0.2/32 1420
[ "$loss" = 0 ] || add_underlay_loss "$loss" "$port_a" "$port_t"

node_args=(throughput --private-key-file "$work/key-t" --address 100.64.0.2/32 --listen-port "$port_t"
    --peer "$pub_a" --endpoint "127.0.0.1:${port_a}" --allowed-ips 100.64.0.1/32)
[ -z "$tsnet_mtu" ] || node_args+=(--mtu "$tsnet_mtu")

echo "TsNet <-> wireguard-go $(wireguard-go --version 2>/dev/null | head -n 1 | awk '{print $2}'), UDP on 127.0.0.1, TsNet MTU ${tsnet_mtu:-default}, TUN MTU 1420, one TCP stream, ${seconds} s, Linux congestion $(ip netns exec "${tag}a" sysctl -n net.ipv4.tcp_congestion_control), underlay loss ${loss} %, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"

wait_for_line() {
    # wait_for_line SECONDS FILE PATTERN PID: until a line of FILE matches, the process exits (fail) or time runs out.
    local limit=$1 file=$2 pattern=$3 pid=$4
    for _ in $(seq $(( limit * 10 ))); do
        grep -q "$pattern" "$file" 2>/dev/null && return 0
        kill -0 "$pid" 2>/dev/null || { grep -q "$pattern" "$file" 2>/dev/null; return; }
        sleep 0.1
    done
    echo "timed out after ${limit} s waiting for '${pattern}' in ${file}" >&2
    return 1
}

run_direction() {
    # run_direction LABEL ROLE PORT SOCAT_SECONDS SOCAT_ARGS...: starts the TsNet node, waits until it listens, runs
    # socat in the namespace (ended after SOCAT_SECONDS), waits for TsNet's result line.
    local label=$1 role=$2 port=$3 socat_seconds=$4
    shift 4
    local out="$work/tsnet-${role}.log"
    dotnet "$dll" "${node_args[@]}" --role "$role" --port "$port" --seconds "$seconds" --connections 1 >"$out" 2>"$out.err" &
    local pid=$!
    background+=("$pid")
    if ! wait_for_line 60 "$out" '^listening ' "$pid"; then
        echo "TsNet node (${role}) did not start listening:" >&2
        cat "$out" "$out.err" >&2
        return 1
    fi
    local status=0
    timeout -s INT "$socat_seconds" ip netns exec "${tag}a" socat -b 131072 "$@" || status=$?
    if [ "$status" -ne 0 ] && [ "$status" -ne 124 ]; then
        echo "socat (${label}) failed with exit code ${status}" >&2
        cat "$out" "$out.err" >&2
        return 1
    fi
    if ! wait_for_line $(( seconds + 30 )) "$out" '^result ' "$pid"; then
        echo "TsNet node (${role}) reported no result:" >&2
        cat "$out" "$out.err" >&2
        return 1
    fi
    stop_pid "$pid"
    local rate
    rate="$(grep '^result ' "$out" | tail -n 1 | tr ' ' '\n' | awk -F= '$1 == "gbit/s" { print $2 }')"
    printf '%s  %s Gbit/s  (%s)\n' "$label" "$rate" "$(grep '^result ' "$out" | tail -n 1)"
}

ping_rtt() {
    # ping_rtt COUNT: a TsNet node (sink role, idle) answers COUNT pings from the namespace, after a warm-up of 20.
    local out="$work/tsnet-ping.log"
    dotnet "$dll" "${node_args[@]}" --role sink --port 5203 --seconds 600 --connections 1 >"$out" 2>"$out.err" &
    local pid=$!
    background+=("$pid")
    if ! wait_for_line 60 "$out" '^listening ' "$pid"; then
        echo "TsNet node (ping) did not start listening:" >&2
        cat "$out" "$out.err" >&2
        return 1
    fi
    ip netns exec "${tag}a" ping -c 20 -i 0.01 -w 20 -q 100.64.0.2 >/dev/null || { echo "no ping to the TsNet node" >&2; return 1; }
    local summary
    summary="$(ip netns exec "${tag}a" ping -c "$1" -i 0.01 -w $(( $1 / 50 + 30 )) -q 100.64.0.2 | awk -F' = ' '/^rtt/ { print $2 }')"
    stop_pid "$pid"
    echo "ping rtt ms min/avg/max/mdev ${summary%% ms}  (linux -> wireguard-go -> TsNet, ${1} pings)"
}

[ "$pings" = 0 ] || ping_rtt "$pings"
# Linux sends for SECONDS (timeout ends socat; the kernel still delivers what it buffered, then FIN).
run_direction "linux->tsnet" sink 5201 "$seconds" -u OPEN:/dev/zero,rdonly "TCP4:100.64.0.2:5201"
# TsNet sends for SECONDS, then FIN; socat reads to the end.
run_direction "tsnet->linux" source 5202 $(( seconds + 30 )) -u "TCP4:100.64.0.2:5202" OPEN:/dev/null,wronly
[ -z "$nft_table" ] || echo "underlay datagrams dropped: $(underlay_dropped)"
