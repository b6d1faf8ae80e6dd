#!/usr/bin/env bash
# TsNet <-> TsNet: two processes over loopback UDP, one TCP stream, TsNet measuring (issue goal: >= 1.5 Gbit/s).
#   node A 100.64.0.1 (sink, listens on TCP 5201)  <== UDP 127.0.0.1 ==>  node B 100.64.0.2 (send, dials A)
# Usage: tests/TsNet.Benchmarks/Throughput/tsnet-pair.sh [-t SECONDS] [--mtu MTU] [--no-build]
# Needs wg(8) only for key generation. No root needed.
set -euo pipefail
seconds=10
mtu=1280
build=1
while [ $# -gt 0 ]; do
    case "$1" in
        -t) seconds="$2"; shift 2 ;;
        --mtu) mtu="$2"; shift 2 ;;
        --no-build) build=0; shift ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
project="$root/tests/TsNet.Benchmarks"
if [ "$build" = 1 ]; then dotnet build "$project" -c Release -v q -nologo >/dev/null; fi
exe="$project/bin/Release/net10.0/TsNet.Benchmarks.dll"
key_a=$(wg genkey); pub_a=$(echo "$key_a" | wg pubkey)
key_b=$(wg genkey); pub_b=$(echo "$key_b" | wg pubkey)
port_a=$((40000 + RANDOM % 10000)); port_b=$((port_a + 1))
out=$(mktemp -d)
cleanup() { kill "${pids[@]}" 2>/dev/null || true; rm -rf "$out"; }
pids=()
trap cleanup EXIT INT TERM
dotnet "$exe" throughput --private-key "$key_a" --address 100.64.0.1/32 --listen-port "$port_a" --mtu "$mtu" \
    --peer "$pub_b" --endpoint "127.0.0.1:$port_b" --allowed-ips 100.64.0.2/32 --role sink --port 5201 > "$out/a" 2>"$out/a.err" &
pids+=($!)
for _ in $(seq 1 100); do grep -q '^listening' "$out/a" 2>/dev/null && break; sleep 0.1; done
dotnet "$exe" throughput --private-key "$key_b" --address 100.64.0.2/32 --listen-port "$port_b" --mtu "$mtu" \
    --peer "$pub_a" --endpoint "127.0.0.1:$port_a" --allowed-ips 100.64.0.1/32 --role send --connect 100.64.0.1:5201 \
    --seconds "$seconds" > "$out/b" 2>"$out/b.err" &
pids+=($!)
wait "${pids[1]}" || { cat "$out/b.err" >&2; exit 1; }
for _ in $(seq 1 100); do grep -q '^result' "$out/a" && break; sleep 0.1; done
echo "TsNet <-> TsNet, two processes, UDP on 127.0.0.1, MTU $mtu, one TCP stream, $seconds s, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "sender:   $(grep '^result' "$out/b")"
echo "receiver: $(grep '^result' "$out/a")"
