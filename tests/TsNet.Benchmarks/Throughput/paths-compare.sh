#!/usr/bin/env bash
# Issue 12's benchmarks in one run on loopback, against the real Tailscale v1.36.2 binaries (../shared/tailscale/bin):
# TsNet versus a userspace tailscaled as the serving peer, one TCP stream, over a direct path and over DERP only,
# plus TsNet's start-up times. No root, no namespaces; not part of any test suite (report figures, not conditions).
#
#   derper (TLS, STUN) + testcontrol-server -readonly-updates-derp, all on 127.0.0.1 with random free ports
#   node1  tailscaled, client, direct paths              SOCKS5 127.0.0.1:S1
#   node2  tailscaled, server: inbound tailnet TCP goes to the host's 127.0.0.1:HP = python3 (GET files, PUT discard)
#   node3  tailscaled, client, TS_DEBUG_ALWAYS_USE_DERP=true (DERP only)   SOCKS5 127.0.0.1:S3
#   tsnet1 `TsNet.Tool.dll up --login-server ... --http HP --www DIR` (serves the same file, PUT /sink)
#
# curl --socks5-hostname through node1 (direct) or node3 (DERP) GETs a SIZE_MB MiB file of random bytes from
# node2.tail.test:HP ("tailscaled") and from tsnet1.tail.test:HP ("tsnet"), REPEATS times interleaved a/b/a/b,
# checking status 200 and the byte count; then PUTs it the other way (curl -T). Rate = bytes*8 / curl's
# time_total (connect to last byte), in Mbit/s.
#
# Usage:  tests/TsNet.Benchmarks/Throughput/paths-compare.sh [--size MB] [--repeats N] [--tool DLL] [--keep DIR]
#   --size     file size in MiB (default 200)     --repeats  runs per side and direction (default 3)
#   --tool     the built tool (default src/TsNet.Tool/bin/Release/net10.0/TsNet.Tool.dll, built once if missing)
#   --keep DIR  work directory kept afterwards (logs of every process), else a temporary one that is removed
#
# Output lines:
#   load: ...                   the load average at that moment (printed at start, before each section and at the end)
#   loopback python GET|PUT: N  curl straight to the python server on 127.0.0.1 (no tailnet): it must be far above
#                               the tailnet rates, or python is the bottleneck of the tailscaled side
#   path ...                    the path each side uses: node1/node3's last pong of `tailscale ping -c 10` (after 10
#                               pongs without a direct path it adds "direct connection not established"), then
#                               `tsnet status` (table) and each peer's path from `tsnet status --json`; again at the end
#                               ("path after"; an idle direct path shows "derp": heartbeats only while data flows).
#                               A direct endpoint may show as an eth0 address (e.g. 192.0.2.2 or fd00::2): tailscaled
#                               and TsNet report interface addresses; the kernel still delivers them locally.
#   path back: ...              TsNet's path to node1 once node1 GETs again (polled every 50 ms), and how soon
#   direct|derp get|put tailscaled|tsnet run i: N Mbit/s    one transfer
#   direct|derp get|put median: tailscaled A  tsnet B  ratio tsnet/tailscaled R   (goals: direct >= 1.5, derp >= 1.0)
#   path just after: ...        TsNet's path to the client node (node1 or node3) right after that direction's runs
#   startup: ready S s; first byte over DERP (node3 GET from tsnet1) D s; confirmed direct path to node1 E s
#                               all measured from the start of `tsnet up` (process start, JIT included); "first
#                               byte" is the earliest first byte (curl's time_starttransfer after its start) of GETs
#                               node3 starts every 200 ms (overlapping, up to 3 s each) until one succeeds; the
#                               direct path is the first 50 ms poll of `tsnet status --json` whose node1 path is
#                               "direct ..." (node1 keeps GETting a small file from tsnet1 so that paths are sought)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
BIN="$(cd "$repo/../shared/tailscale/bin" 2>/dev/null && pwd || echo /work/shared/tailscale/bin)"
size_mb=200
repeats=3
tool_dll="$repo/src/TsNet.Tool/bin/Release/net10.0/TsNet.Tool.dll"
keep=""
while [ $# -gt 0 ]; do
    case "$1" in
        --size) size_mb="$2"; shift 2 ;;
        --repeats) repeats="$2"; shift 2 ;;
        --tool) tool_dll="$2"; shift 2 ;;
        --keep) keep="$2"; shift 2 ;;
        -h|--help) sed -n '2,37p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done
for t in curl python3 openssl ss jq dotnet timeout; do
    command -v "$t" >/dev/null 2>&1 || { echo "missing tool: $t" >&2; exit 2; }
done
for b in tailscaled tailscale derper testcontrol-server; do
    [ -x "$BIN/$b" ] || { echo "missing $BIN/$b" >&2; exit 2; }
done

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
load() { echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"; }

if [ ! -f "$tool_dll" ]; then
    log "building src/TsNet.Tool (Release)"
    dotnet build "$repo/src/TsNet.Tool" -c Release -nologo -v q >&2
fi
tool_dll="$(cd "$(dirname "$tool_dll")" && pwd)/$(basename "$tool_dll")"

if [ -n "$keep" ]; then mkdir -p "$keep"; W="$(cd "$keep" && pwd)"; else W="$(mktemp -d /tmp/tsnpaths.XXXXXX)"; fi
pids=()
stop_pid() {   # SIGTERM, up to 3 s, then SIGKILL
    local pid=$1
    kill "$pid" 2>/dev/null || return 0
    for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
cleanup() {
    local status=$?
    set +e
    trap - EXIT INT TERM
    local i
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do stop_pid "${pids[$i]}"; done
    [ -z "$keep" ] && rm -rf "$W"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Free ports: 20000 + random, checked with ss (TCP and UDP on any address) and not handed out before.
used=" "
pick_port() {
    local p
    for _ in $(seq 200); do
        p=$((20000 + RANDOM % 12000))
        case "$used" in *" $p "*) continue ;; esac
        if [ -z "$(ss -Htuan "( sport = :$p )" 2>/dev/null)" ]; then used="$used$p "; echo "$p"; return 0; fi
    done
    echo "no free port found" >&2; return 1
}
derp_port=$(pick_port); stun_port=$(pick_port); control_port=$(pick_port); http_port=$(pick_port)
ts_udp1=$(pick_port); ts_udp2=$(pick_port); ts_udp3=$(pick_port); socks1=$(pick_port); socks3=$(pick_port)
# shellcheck disable=SC2034
socks2=$(pick_port)
control="http://127.0.0.1:$control_port"

wait_until() {   # wait_until SECONDS DESCRIPTION COMMAND...: polls every 0.1 s
    local secs=$1 what=$2; shift 2
    local end=$((SECONDS + secs))
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt $end ] || { echo "timed out after ${secs}s waiting for $what (logs in $W)" >&2; return 1; }
        sleep 0.1
    done
}

load
log "work dir $W; ports derp $derp_port stun $stun_port control $control_port http $http_port"

# The file (random bytes) and a small one for the start-up probes.
mkdir -p "$W/www"
head -c "$((size_mb * 1024 * 1024))" /dev/urandom >"$W/www/big.bin"
echo "hello over the tailnet" >"$W/www/hello.txt"
size_bytes=$((size_mb * 1024 * 1024))

# DERP (TLS, self-signed for the DERP map's name) and the control server.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 -subj "/CN=derp.tail.test" \
    -addext "subjectAltName=DNS:derp.tail.test,IP:127.0.0.1" \
    -keyout "$W/derp.tail.test.key" -out "$W/derp.tail.test.crt" 2>/dev/null
"$BIN/derper" -c "$W/derper.json" -a "127.0.0.1:$derp_port" -http-port -1 -stun-port "$stun_port" \
    -certmode manual -certdir "$W" -hostname derp.tail.test >"$W/derper.log" 2>&1 & pids+=($!)
"$BIN/testcontrol-server" -listen "127.0.0.1:$control_port" -derp-host derp.tail.test -derp-port "$derp_port" \
    -stun-port "$stun_port" -readonly-updates-derp >"$W/control.out" 2>"$W/control.log" & pids+=($!)
wait_until 10 "control server" curl -sf "$control/key?v=56"

# python3: GET serves www/, PUT reads and discards the body (answers 200 with the byte count).
cat >"$W/server.py" <<'EOF'
import http.server, sys, os, json
class H(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_PUT(self):
        n = int(self.headers.get("Content-Length", "0")); left = n
        while left > 0:
            b = self.rfile.read(min(left, 1 << 20))
            if not b: break
            left -= len(b)
        body = json.dumps({"bytes": n - left}).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
os.chdir(sys.argv[2])
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
EOF
python3 "$W/server.py" "$http_port" "$W/www" >"$W/python.log" 2>&1 & pids+=($!)
wait_until 10 "python server" curl -sf "http://127.0.0.1:$http_port/hello.txt"

# Three userspace tailscaled; node3 uses DERP only.
start_tailscaled() {   # start_tailscaled N UDP_PORT SOCKS_PORT [ENV=VALUE...]
    local n=$1 udp=$2 socks=$3; shift 3
    mkdir -p "$W/ts$n"
    env TS_LOGS_DIR="$W/ts$n" "$@" "$BIN/tailscaled" --tun=userspace-networking --statedir="$W/ts$n" \
        --socket="$W/ts$n/sock" --port="$udp" --socks5-server="127.0.0.1:$socks" \
        --no-logs-no-support >"$W/ts$n/log" 2>&1 & pids+=($!)
}
ts() { local n=$1; shift; "$BIN/tailscale" --socket="$W/ts$n/sock" "$@"; }
start_tailscaled 1 "$ts_udp1" "$socks1"
start_tailscaled 2 "$ts_udp2" "$socks2"
start_tailscaled 3 "$ts_udp3" "$socks3" TS_DEBUG_ALWAYS_USE_DERP=true
for n in 1 2 3; do wait_until 15 "tailscaled $n socket" ts "$n" status --json; done
for n in 1 2 3; do timeout 40 "$BIN/tailscale" --socket="$W/ts$n/sock" up --login-server="$control" \
    --authkey=anything --hostname="node$n" --timeout=30s >/dev/null; done
log "tailscaled nodes up"

# tsnet1, timed from the start of the process: ready line, first byte over DERP, confirmed direct path.
tsnet() { timeout 5 dotnet "$tool_dll" "$@"; }
mkdir -p "$W/tsnet1"
t0=$(date +%s.%N)
dotnet "$tool_dll" up --login-server "$control" --authkey anything --hostname tsnet1 --state "$W/tsnet1" \
    --http "$http_port" --www "$W/www" >"$W/tsnet1/out" 2>"$W/tsnet1/log" & pids+=($!)
tsnet_pid=$!
probe_deadline=$((SECONDS + 60))
(   # node3 (DERP only) starts a GET of the small file every 200 ms (each bounded by 3 s; overlapping, so a
    # TCP SYN retransmission of one attempt does not hide an earlier success) until one got its first byte
    n=0
    while [ $SECONDS -lt $probe_deadline ] && ! ls "$W"/t_derp.* >/dev/null 2>&1; do
        n=$((n + 1))
        (   s=$(date +%s.%N)
            if r=$(curl -sf --max-time 3 -o /dev/null -w '%{time_starttransfer}' --socks5-hostname "127.0.0.1:$socks3" \
                "http://tsnet1.tail.test:$http_port/hello.txt"); then
                echo "$s $r" | awk -v t0="$t0" '{printf "%.2f\n", $1 + $2 - t0}' >"$W/t_derp.$n"
            fi ) &
        sleep 0.2
    done
    wait
    first=$(cat "$W"/t_derp.* 2>/dev/null | sort -n | head -1)
    [ -z "$first" ] || echo "$first" >"$W/t_derp"
) & pids+=($!); derp_probe=$!
(   # node1 keeps fetching the small file (traffic makes both sides seek a direct path)
    while [ $SECONDS -lt $probe_deadline ] && [ ! -f "$W/t_direct" ]; do
        curl -sf --max-time 2 -o /dev/null --socks5-hostname "127.0.0.1:$socks1" \
            "http://tsnet1.tail.test:$http_port/hello.txt" || true
        sleep 0.05
    done
) & pids+=($!); direct_traffic=$!
(   # tsnet status --json every 50 ms until node1's path is direct
    while [ $SECONDS -lt $probe_deadline ]; do
        if [ ! -f "$W/t_ready" ] && grep -q '^ready' "$W/tsnet1/out" 2>/dev/null; then
            awk -v t0="$t0" -v t="$(date +%s.%N)" 'BEGIN {printf "%.2f\n", t - t0}' >"$W/t_ready"
        fi
        if timeout 2 dotnet "$tool_dll" status --json --state "$W/tsnet1" 2>/dev/null \
            | jq -e '[.Peers[]? | select((.DnsName // .Name // "") | startswith("node1")) | select((.Path // "") | startswith("direct"))] | length > 0' >/dev/null 2>&1; then
            awk -v t0="$t0" -v t="$(date +%s.%N)" 'BEGIN {printf "%.2f\n", t - t0}' >"$W/t_direct"; exit 0
        fi
        sleep 0.05
    done
) & pids+=($!); direct_probe=$!
wait "$derp_probe" "$direct_probe" "$direct_traffic" 2>/dev/null || true
kill -0 "$tsnet_pid" 2>/dev/null || { echo "tsnet up exited; its log:" >&2; tail -20 "$W/tsnet1/log" >&2; exit 1; }
echo "startup: ready $(cat "$W/t_ready" 2>/dev/null || echo '?') s; first byte over DERP (node3 GET from tsnet1)" \
    "$(cat "$W/t_derp" 2>/dev/null || echo 'none within 60') s; confirmed direct path to node1" \
    "$(cat "$W/t_direct" 2>/dev/null || echo 'none within 60') s"

# Paths as each side sees them.
path_of_ts() {   # path_of_ts N PEER: the last pong of `tailscale ping -c 10` ("via IP:PORT" or "via DERP(test)") and its verdict
    local out
    out=$(timeout 20 "$BIN/tailscale" --socket="$W/ts$1/sock" ping -c 10 "$2" 2>&1 || true)
    printf '%s' "$(grep pong <<<"$out" | tail -1)"
    grep -q 'direct connection not established' <<<"$out" && printf ' (direct connection not established)'
    echo
}
echo "path node1 -> node2:  $(path_of_ts 1 node2)"
echo "path node1 -> tsnet1: $(path_of_ts 1 tsnet1)"
echo "path node3 -> node2:  $(path_of_ts 3 node2)"
echo "path node3 -> tsnet1: $(path_of_ts 3 tsnet1)"
tsnet status --state "$W/tsnet1" 2>&1 | sed 's/^/tsnet status: /' || true
tsnet status --json --state "$W/tsnet1" 2>/dev/null \
    | jq -r '.Peers[] | "path tsnet1 -> \((.DnsName // .Name) | split(".")[0]): \(.Path)"' || true

# Is python the bottleneck? Straight to it on loopback.
r=$(curl -sf -o /dev/null -w '%{size_download} %{time_total}' "http://127.0.0.1:$http_port/big.bin")
echo "loopback python GET: $(echo "$r" | awk '{printf "%.0f Mbit/s", $1 * 8 / $2 / 1e6}')"
r=$(curl -sf -o /dev/null -T "$W/www/big.bin" -w '%{size_upload} %{time_total}' "http://127.0.0.1:$http_port/sink")
echo "loopback python PUT: $(echo "$r" | awk '{printf "%.0f Mbit/s", $1 * 8 / $2 / 1e6}')"

# One transfer: prints the rate or fails (status, byte count).
transfer() {   # transfer get|put SOCKS HOST
    local dir=$1 socks=$2 host=$3 out
    if [ "$dir" = get ]; then
        out=$(curl -sS --max-time 300 -o /dev/null -w '%{http_code} %{size_download} %{time_total}' \
            --socks5-hostname "127.0.0.1:$socks" "http://$host:$http_port/big.bin")
    else
        out=$(curl -sS --max-time 300 -o /dev/null -T "$W/www/big.bin" -w '%{http_code} %{size_upload} %{time_total}' \
            --socks5-hostname "127.0.0.1:$socks" "http://$host:$http_port/sink")
    fi
    set -- $out
    [ "$1" = 200 ] && [ "$2" = "$size_bytes" ] || { echo "transfer $dir $host: status $1, $2 of $size_bytes bytes" >&2; return 1; }
    awk -v b="$2" -v t="$3" 'BEGIN {printf "%.0f\n", b * 8 / t / 1e6}'
}
median() { sort -n | awk '{a[NR] = $1} END {if (NR % 2) print a[(NR + 1) / 2]; else printf "%.0f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

section() {   # section direct|derp SOCKS PEER (the client node, for the path line)
    local kind=$1 socks=$2 peer=$3 dir i ra rb
    for dir in get put; do
        load
        : >"$W/r_a"; : >"$W/r_b"
        for i in $(seq "$repeats"); do
            ra=$(transfer "$dir" "$socks" node2.tail.test); echo "$kind $dir tailscaled run $i: $ra Mbit/s"; echo "$ra" >>"$W/r_a"
            rb=$(transfer "$dir" "$socks" tsnet1.tail.test); echo "$kind $dir tsnet      run $i: $rb Mbit/s"; echo "$rb" >>"$W/r_b"
        done
        ra=$(median <"$W/r_a"); rb=$(median <"$W/r_b")
        echo "$kind $dir median: tailscaled $ra  tsnet $rb  ratio tsnet/tailscaled $(awk -v a="$ra" -v b="$rb" 'BEGIN {printf "%.2f", b / a}')"
        tsnet status --json --state "$W/tsnet1" 2>/dev/null | jq -r --arg peer "$peer" \
            '.Peers[] | select((.DnsName // .Name) | startswith($peer)) | "path just after: tsnet1 -> \($peer): \(.Path)"' || true
    done
}
section direct "$socks1" node1
section derp "$socks3" node3
echo "path after: node1 -> tsnet1: $(path_of_ts 1 tsnet1); node3 -> tsnet1: $(path_of_ts 3 tsnet1)"
tsnet status --json --state "$W/tsnet1" 2>/dev/null \
    | jq -r '.Peers[] | "path after: tsnet1 -> \((.DnsName // .Name) | split(".")[0]): \(.Path)"' || true
# An idle direct path loses its trust (no heartbeats without data) and shows "derp"; traffic brings it back.
t1=$(date +%s.%N); back=""
for _ in $(seq 100); do   # at most ~100 x (GET + status), bounded by curl's and status's timeouts
    curl -sf --max-time 2 -o /dev/null --socks5-hostname "127.0.0.1:$socks1" "http://tsnet1.tail.test:$http_port/hello.txt" || true
    back=$(tsnet status --json --state "$W/tsnet1" 2>/dev/null | jq -r '.Peers[] | select((.DnsName // .Name) | startswith("node1")) | .Path' || true)
    case "$back" in direct*) break ;; esac
    sleep 0.05
done
echo "path back: tsnet1 -> node1: $back, $(awk -v t1="$t1" -v t="$(date +%s.%N)" 'BEGIN {printf "%.2f", t - t1}') s after node1 sent traffic again"
load
