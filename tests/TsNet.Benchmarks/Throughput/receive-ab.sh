#!/usr/bin/env bash
# Receive path A/B in one run (issue 13), interleaved so both sides see the same machine load:
#   per round: udp-baseline.sh (iperf3 -u -b 0 -l 1420 over loopback, delivered rate), then tsnet-pair.sh with
#   TSNET_UDP_GRO=0 (one ReceiveFromAsync per datagram) and with the batched receive (recvmmsg + UDP GRO).
#   Per TsNet run: each side's rate and its process CPU seconds per GB moved (steadier than rates on a busy machine).
# Usage: tests/TsNet.Benchmarks/Throughput/receive-ab.sh [-r ROUNDS] [-t SECONDS] [--no-build]
set -euo pipefail
rounds=3
seconds=10
build=1
while [ $# -gt 0 ]; do
    case "$1" in
        -r) rounds="$2"; shift 2 ;;
        -t) seconds="$2"; shift 2 ;;
        --no-build) build=0; shift ;;
        -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ "$build" = 1 ]; then dotnet build "$here/.." -c Release -v q -nologo >/dev/null; fi
# "receiver G Gbit/s, C CPU-s/GB (sender G' Gbit/s, C' CPU-s/GB)" from tsnet-pair.sh's two result lines.
summary() {
    awk '/^(sender|receiver):/ { side = $1; for (i = 2; i <= NF; i++) { split($i, kv, "="); v[side, kv[1]] = kv[2] } }
         END { printf "receiver %s Gbit/s, %.2f CPU-s/GB (sender %s Gbit/s, %.2f CPU-s/GB)\n",
                 v["receiver:", "gbit/s"], v["receiver:", "cpu-s"] / (v["receiver:", "bytes"] / 1e9),
                 v["sender:", "gbit/s"], v["sender:", "cpu-s"] / (v["sender:", "bytes"] / 1e9) }'
}
for round in $(seq "$rounds"); do
    echo "round $round, load $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "  $("$here/udp-baseline.sh" -t "$seconds")"
    echo "  per-datagram receive (TSNET_UDP_GRO=0): $(TSNET_UDP_GRO=0 "$here/tsnet-pair.sh" -t "$seconds" --no-build | summary)"
    echo "  batched receive (recvmmsg + GRO):       $(TSNET_UDP_GRO=1 "$here/tsnet-pair.sh" -t "$seconds" --no-build | summary)"
done
