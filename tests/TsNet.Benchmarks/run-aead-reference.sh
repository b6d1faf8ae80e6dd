#!/usr/bin/env bash
# Transport AEAD at 1420 B against its C reference, interleaved, in per-thread CPU time:
#   C stream   one EVP_EncryptUpdate per buffer — what `openssl speed -aead -evp chacha20-poly1305` of OpenSSL 3.0
#              actually runs for this cipher (see --probe): no nonce, Poly1305 key block or tag per buffer
#   C seal     a whole AEAD operation per buffer (nonce, encrypt, final, tag) from C, same libcrypto
#   C open     the same for decryption (copy in, nonce + tag, decrypt, verify)
#   TsNet      `TsNet.Benchmarks.dll aead-cpu`: our seal and open, same sizes and copies
#   openssl    `openssl speed -aead -evp chacha20-poly1305 -bytes 1420`, ns per operation from `perf stat` task-clock
#              when perf is there (its self-reported user time undercounts on a loaded machine)
# --probe (root, perf with uprobes): counts libcrypto's EVP calls during one `openssl speed -aead` run, showing how
# many inits, updates and finals it makes per reported operation.
# Usage: tests/TsNet.Benchmarks/run-aead-reference.sh [-r ROUNDS] [--probe]
# Needs gcc and libssl-dev (headers) for the C reference; the benchmarks project built in Release.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
rounds=5
probe=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        -r) rounds="$2"; shift 2 ;;
        --probe) probe=1; shift ;;
        *) echo "usage: $0 [-r ROUNDS] [--probe]" >&2; exit 2 ;;
    esac
done

dll="$here/bin/Release/net10.0/TsNet.Benchmarks.dll"
[[ -f "$dll" ]] || { echo "build the benchmarks first: dotnet build $here -c Release" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
gcc -O2 -Wall -Wextra "$here/Crypto/aead-reference.c" -o "$work/aead-reference" -lcrypto

openssl_ns() { # ns per operation of `openssl speed -aead` at 1420 B, by task-clock if perf works, else its own figure
    local out ops ms
    if command -v perf >/dev/null && out="$(perf stat -x, -e task-clock openssl speed -aead -evp chacha20-poly1305 -bytes 1420 -seconds 2 2>&1)" \
        && ms="$(awk -F, '/task-clock/ { print $1; exit }' <<<"$out")" && [[ -n "$ms" ]]; then
        ops="$(sed -n 's/.*blocks: \([0-9]*\) .*/\1/p' <<<"$out" | head -n 1)"
        awk -v ms="$ms" -v n="$ops" 'BEGIN { printf "%.1f (task-clock)", ms * 1e6 / n }'
    else
        out="$(openssl speed -aead -evp chacha20-poly1305 -bytes 1420 -seconds 2 2>&1)"
        ops="$(sed -n 's/.*blocks: \([0-9]*\) .*in \([0-9.]*\)s.*/\1 \2/p' <<<"$out" | head -n 1)"
        awk -v a="$ops" 'BEGIN { split(a, p, " "); printf "%.1f (self-reported)", p[2] * 1e9 / p[1] }'
    fi
}

echo "== load: $(cut -d' ' -f1-3 /proc/loadavg); openssl $(openssl version | cut -d' ' -f2); $rounds rounds, ns per 1420-byte operation"
printf '%-6s %10s %10s %10s %10s %10s  %s\n' round "C stream" "C seal" "C open" "TsNet seal" "TsNet open" "openssl speed -aead"
for ((r = 1; r <= rounds; r++)); do
    stream="$("$work/aead-reference" stream 300000 | awk '{ print $2 }')"
    seal="$("$work/aead-reference" seal 300000 | awk '{ print $2 }')"
    open="$("$work/aead-reference" open 300000 | awk '{ print $2 }')"
    ours="$(dotnet "$dll" aead-cpu --ops 300000)"
    tseal="$(awk '/^seal/ { print $2 }' <<<"$ours")"
    topen="$(awk '/^open/ { print $2 }' <<<"$ours")"
    printf '%-6s %10s %10s %10s %10s %10s  %s\n' "$r" "$stream" "$seal" "$open" "$tseal" "$topen" "$(openssl_ns)"
done
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"

if [[ $probe -eq 1 ]]; then
    lib="$(ldd "$(command -v openssl)" | awk '/libcrypto/ { print $3 }')"
    fns=(EVP_CipherInit_ex EVP_EncryptInit_ex EVP_EncryptUpdate EVP_EncryptFinal_ex EVP_CIPHER_CTX_ctrl)
    for f in "${fns[@]}"; do perf probe -q -x "$lib" -a "$f" >/dev/null 2>&1 || true; done
    echo "== EVP calls during one 'openssl speed -aead -evp chacha20-poly1305 -bytes 1420 -seconds 1' ($lib)"
    perf stat -e 'probe_libcrypto:*' openssl speed -aead -evp chacha20-poly1305 -bytes 1420 -seconds 1 2>&1 \
        | grep -E 'Doing|probe_libcrypto' | sed 's/^ */   /'
    perf probe -q -d 'probe_libcrypto:*' >/dev/null 2>&1 || true
fi
