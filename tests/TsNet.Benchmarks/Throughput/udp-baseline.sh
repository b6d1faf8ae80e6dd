#!/usr/bin/env bash
# The kernel's own UDP rate over loopback, the yardstick for TsNet <-> TsNet (issue 13: the receiver's rate >= 1.0x
# of this): iperf3 -u -b 0 -l 1420, one stream to 127.0.0.1, unpaced. Prints the DELIVERED rate (what the iperf3
# server received, i.e. the sender's rate less the datagrams the receiver's socket dropped) and the sent rate.
# Usage: tests/TsNet.Benchmarks/Throughput/udp-baseline.sh [-t SECONDS] [-l LENGTH]
# No root needed. Prints e.g. "udp  delivered 2.31 Gbit/s  (sent 3.02 Gbit/s, 23.5 % lost)".
set -euo pipefail
seconds=10
length=1420
while [ $# -gt 0 ]; do
    case "$1" in
        -t) seconds="$2"; shift 2 ;;
        -l) length="$2"; shift 2 ;;
        -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done
for tool in iperf3 jq ss; do command -v "$tool" >/dev/null || { echo "missing tool: $tool" >&2; exit 2; }; done
port=""
for _ in $(seq 200); do
    candidate=$(( 20000 + RANDOM % 12000 ))
    if [ -z "$(ss -Hltun "sport = :$candidate")" ]; then port=$candidate; break; fi
done
[ -n "$port" ] || { echo "no free port found" >&2; exit 1; }
out=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null; rm -rf "$out"; }
trap cleanup EXIT INT TERM
iperf3 -s -1 -B 127.0.0.1 -p "$port" >"$out/server" 2>&1 &
server=$!
for _ in $(seq 50); do [ -n "$(ss -Hltn "sport = :$port")" ] && break; sleep 0.1; done
timeout $(( seconds + 30 )) iperf3 -c 127.0.0.1 -p "$port" -u -b 0 -l "$length" -t "$seconds" --json >"$out/client"
jq -r '.end | "udp  delivered \(.sum_received.bits_per_second / 1e9 * 1000 | round / 1000) Gbit/s  (sent \(.sum_sent.bits_per_second / 1e9 * 1000 | round / 1000) Gbit/s, \(.sum_received.lost_percent * 10 | round / 10) % lost)"' "$out/client"
