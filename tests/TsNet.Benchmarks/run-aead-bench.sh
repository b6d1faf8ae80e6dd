#!/usr/bin/env bash
# Transport AEAD throughput: `openssl speed` (one core, the ceiling for libcrypto) and TsNet's
# TransportCipherBenchmarks (every backend, and the previous libcrypto path) in one run, so the figures are
# comparable. `openssl speed` runs in both of its modes: plain (-evp) and -aead. With OpenSSL 3.0 both time one
# stream of updates for chacha20-poly1305 (no nonce, Poly1305 key or tag per buffer; run-aead-reference.sh --probe
# counts the calls): the per-packet reference is run-aead-reference.sh's C seal/open, which make a whole AEAD
# operation per buffer as a packet needs.
# Usage: tests/TsNet.Benchmarks/run-aead-bench.sh [extra BenchmarkDotNet args]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
sizes=(64 1420 8192)
seconds=3

openssl_speed() { # $1 = extra mode flag ("" or -aead), $2 = size; prints GB/s
    # The last line holds the table row; its final column is thousands of bytes per second.
    local row kbytes
    # shellcheck disable=SC2086 # $1 is empty or one flag
    row="$(openssl speed $1 -evp chacha20-poly1305 -bytes "$2" -seconds "$seconds" 2>/dev/null | tail -n 1)"
    kbytes="$(awk '{ v = $NF; sub(/k$/, "", v); print v }' <<<"$row")"
    awk -v k="$kbytes" 'BEGIN { printf "%.3f", k * 1000 / 1e9 }'
}

echo "== load: $(uptime)"
echo "== openssl $(openssl version | cut -d' ' -f2) speed -evp chacha20-poly1305 (one core, ${seconds}s per size)"
for size in "${sizes[@]}"; do
    printf 'openssl  %5d B  %s GB/s (-evp)  %s GB/s (-aead -evp)\n' "$size" "$(openssl_speed "" "$size")" "$(openssl_speed -aead "$size")"
done

echo "== TransportCipherBenchmarks (BenchmarkDotNet, warmup 3, 8 iterations)"
cd "$here"
dotnet run -c Release -- --filter '*TransportCipherBenchmarks*' "$@"

echo "== openssl again after the benchmarks (load: $(uptime | sed 's/.*load average: //'))"
for size in "${sizes[@]}"; do
    printf 'openssl  %5d B  %s GB/s (-evp)  %s GB/s (-aead -evp)\n' "$size" "$(openssl_speed "" "$size")" "$(openssl_speed -aead "$size")"
done
