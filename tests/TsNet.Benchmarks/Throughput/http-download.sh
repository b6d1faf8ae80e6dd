#!/usr/bin/env bash
# HTTP download from `tsnet up --http` with Linux curl through a stock wireguard-go: what serving a file costs next to
# raw TCP (compare with the tsnet->linux line of tsnet-throughput.sh, run in the same session with the same MTU).
#
#   ns tsnbl<pid>a: curl, TUN 100.64.0.1/24 - wireguard-go a ==UDP 127.0.0.1== `tsnet up` 100.64.0.2 (root namespace)
#
# The tool serves a file of SIZE_MB MiB of random bytes from a temporary --www directory; curl in the namespace GETs it
# REPEATS times (to /dev/null, checking status 200 and the byte count). Prints Mbit/s per run (curl's own total time,
# connect to last byte) with the load average, then the median.
#
# Usage (root):  tests/TsNet.Benchmarks/Throughput/http-download.sh TOOL_DLL [SIZE_MB] [REPEATS] [--mtu MTU] [--upload]
#   TOOL_DLL  the built tool, e.g. src/TsNet.Tool/bin/Release/net10.0/TsNet.Tool.dll (any build: before/after)
#   SIZE_MB   file size in MiB (default 200); REPEATS downloads (default 3)
#   --mtu     TsNet's overlay MTU (default 1420, as the README's tsnet-throughput.sh figures); the TUN always has 1420
#   --upload  curl PUTs the file to /sink instead (status 200 and the byte count it uploaded are checked)
#   Each run also prints a "cpu:" line: machine busy share and CPU-s per GB of the tool and wireguard-go (common.sh)
#   --perf DIR  record the last run (JIT warm) system-wide with `perf record -a` (the tool runs with DOTNET_PerfMapEnabled=1 and
#             W^X off so its JIT code has names) into DIR/perf.data, then print where the CPU went: by process (who
#             competes for the cores), and inside the tool by shared object and by symbol
set -euo pipefail

positional=()
tsnet_mtu=1420
upload=0
perf_dir=""
while [ $# -gt 0 ]; do
    case "$1" in
        --mtu) tsnet_mtu="$2"; shift 2 ;;
        --upload) upload=1; shift ;;
        --perf) perf_dir="$2"; shift 2 ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        -*) echo "unknown option: $1" >&2; exit 2 ;;
        *) positional+=("$1"); shift ;;
    esac
done
[ "${#positional[@]}" -ge 1 ] || { sed -n '11,20p' "$0" >&2; exit 2; }
tool_dll="$(cd "$(dirname "${positional[0]}")" && pwd)/$(basename "${positional[0]}")"
size_mb="${positional[1]:-200}"
repeats="${positional[2]:-3}"
[ -f "$tool_dll" ] || { echo "missing $tool_dll (build src/TsNet.Tool -c Release)" >&2; exit 2; }

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=common.sh
source "$here/common.sh"
require_root_and_tools wireguard-go wg ip curl ss ping dotnet

umask 077
wg genkey >"$work/key-a"
wg genkey >"$work/key-t"
pub_a="$(wg pubkey <"$work/key-a")"
pub_t="$(wg pubkey <"$work/key-t")"
port_a="$(free_udp_port)"
port_t="$(free_udp_port)"
while [ "$port_t" = "$port_a" ]; do port_t="$(free_udp_port)"; done

start_wg_peer a 100.64.0.1/24 "$port_a" "$work/key-a" "$pub_t" "$port_t" 100.64.0.2/32 1420

mkdir "$work/www"
head -c "$(( size_mb * 1024 * 1024 ))" /dev/urandom >"$work/www/file.bin"
bytes="$(stat -c %s "$work/www/file.bin")"
cat >"$work/tsnet.conf" <<CONF
[Interface]
PrivateKey = $(cat "$work/key-t")
Address = 100.64.0.2/32
ListenPort = ${port_t}
MTU = ${tsnet_mtu}

[Peer]
PublicKey = ${pub_a}
Endpoint = 127.0.0.1:${port_a}
AllowedIPs = 100.64.0.1/32
CONF

if [ -n "$perf_dir" ]; then
    command -v perf >/dev/null || { echo "--perf needs perf" >&2; exit 2; }
    mkdir -p "$perf_dir"
    perf_dir="$(cd "$perf_dir" && pwd)"
    export DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0
fi
dotnet "$tool_dll" up --config "$work/tsnet.conf" --http 80 --www "$work/www" >"$work/tool.out" 2>"$work/tool.err" &
tool_pid=$!
background+=("$tool_pid")
if ! wait_for 60 "tsnet up's ready line" grep -q '^ready ' "$work/tool.out"; then
    echo "tsnet up did not become ready:" >&2
    cat "$work/tool.out" "$work/tool.err" >&2
    exit 1
fi
wait_for 20 "a ping through the tunnel" ip netns exec "${tag}a" ping -c 1 -W 1 100.64.0.2

if [ "$upload" = 1 ]; then verb="PUT to /sink"; else verb="GET"; fi
echo "curl ${verb} of ${size_mb} MiB, tsnet up --http (${tool_dll}) through wireguard-go, TsNet MTU ${tsnet_mtu}, TUN MTU 1420, $(nproc) CPUs"
rates=()
for run in $(seq "$repeats"); do
    load="$(cut -d' ' -f1-3 /proc/loadavg)"
    perf_pid=""
    if [ -n "$perf_dir" ] && [ "$run" = "$repeats" ]; then
        perf record -q -a -o "$perf_dir/perf.data" >"$perf_dir/record.log" 2>&1 &
        perf_pid=$!
        background+=("$perf_pid")
        sleep 1
    fi
    cpu_pids=("$tool_pid" "${wgpid[a]}")
    cpu_before="$(cpu_mark)"
    if [ "$upload" = 1 ]; then
        result="$(ip netns exec "${tag}a" curl -sS --max-time 600 -T "$work/www/file.bin" -o /dev/null -w '%{http_code} %{size_upload} %{time_total}' "http://100.64.0.2/sink")"
    else
        result="$(ip netns exec "${tag}a" curl -sS --max-time 600 -o /dev/null -w '%{http_code} %{size_download} %{time_total}' "http://100.64.0.2/file.bin")"
    fi
    read -r code got seconds_taken <<<"$result"
    if [ -n "$perf_pid" ]; then
        kill -INT "$perf_pid" 2>/dev/null || true
        wait "$perf_pid" 2>/dev/null || true
    fi
    if [ "$code" != 200 ] || [ "$got" != "$bytes" ]; then
        echo "run ${run}: status ${code}, ${got} of ${bytes} bytes" >&2
        cat "$work/tool.err" >&2
        exit 1
    fi
    rate="$(awk -v b="$got" -v s="$seconds_taken" 'BEGIN { printf "%.0f", b * 8 / s / 1000000 }')"
    rates+=("$rate")
    printf 'run %d: %s Mbit/s  (%s bytes in %s s, load %s)\n' "$run" "$rate" "$got" "$seconds_taken" "$load"
    cpu_report "$cpu_before" "$got" tool wireguard-go
done
median="$(printf '%s\n' "${rates[@]}" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')"
echo "median: ${median} Mbit/s"

if [ -n "$perf_dir" ]; then
    report() { perf report -i "$perf_dir/perf.data" --no-children --stdio -g none "$@" 2>/dev/null | grep -v '^#' | grep -v '^$'; }
    echo "== perf (last run, all CPUs): share of all samples by process (the tool is pid ${tool_pid}; first thread name)"
    perf script -i "$perf_dir/perf.data" -F pid,comm 2>/dev/null \
        | awk '{ p = $NF; $NF = ""; n[p]++; if (!(p in name)) name[p] = $0; total++ } END { for (p in n) printf "%7.2f%%  %-8s %s\n", 100 * n[p] / total, p, name[p] }' \
        | sort -rn | head -n 10
    echo "== inside the tool, by shared object (share of the tool's samples)"
    report --pid "$tool_pid" --percentage relative --sort dso | head -n 12
    echo "== inside the tool: top symbols"
    report --pid "$tool_pid" --percentage relative --sort dso,sym | head -n 40
fi
