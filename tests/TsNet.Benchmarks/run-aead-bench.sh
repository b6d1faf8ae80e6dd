#!/usr/bin/env bash
# Transport AEAD throughput: `openssl speed` (one core, the ceiling for libcrypto) and TsNet's
# TransportCipherBenchmarks (every backend) in one run, so the figures are comparable.
# Usage: tests/TsNet.Benchmarks/run-aead-bench.sh [extra BenchmarkDotNet args]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
sizes=(64 1420 8192)
seconds=3

echo "== openssl $(openssl version | cut -d' ' -f2) speed -evp chacha20-poly1305 (one core, ${seconds}s per size)"
for size in "${sizes[@]}"; do
    # The last line holds the table row; its final column is thousands of bytes per second.
    row="$(openssl speed -evp chacha20-poly1305 -bytes "$size" -seconds "$seconds" 2>/dev/null | tail -n 1)"
    kbytes="$(awk '{ v = $NF; sub(/k$/, "", v); print v }' <<<"$row")"
    awk -v s="$size" -v k="$kbytes" 'BEGIN { printf "openssl  %5d B  %.3f GB/s\n", s, k * 1000 / 1e9 }'
done

echo "== TransportCipherBenchmarks (BenchmarkDotNet, warmup 3, 8 iterations)"
cd "$here"
dotnet run -c Release -- --filter '*TransportCipherBenchmarks*' "$@"
