# Shared by wg-baseline.sh and tsnet-throughput.sh (source it; not executable on its own).
# Sets up stock wireguard-go peers the way docs/interop.md and the interop harness do: the process in the ROOT
# namespace (UDP on 127.0.0.1), its TUN moved into a namespace of its own. Everything created is registered and
# removed by the EXIT trap (also on Ctrl-C, SIGTERM or a failing command).
#
# Names: tsnbl + the script's pid + a suffix (at most 15 characters for a TUN). Not the interop harness's "tsnit"
# prefix, whose cleaner would take a bash owner for a dead test host.

tag="tsnbl$$"
sockdir=/var/run/wireguard
work="$(mktemp -d "/tmp/${tag}.XXXXXX")"
declare -A wgpid=()
namespaces=()
background=()
nft_table=""

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

require_root_and_tools() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "needs root (namespaces, TUN devices)" >&2
        exit 2
    fi
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null 2>&1 || { echo "missing tool: $tool (see .ci/run for the packages)" >&2; exit 2; }
    done
}

stop_pid() {
    # SIGTERM, up to 3 s, then SIGKILL; reaps our children.
    local pid=$1
    kill "$pid" 2>/dev/null || return 0
    for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    return 0
}

cleanup() {
    local status=$?
    set +e
    local pid ns side
    for pid in "${background[@]}"; do stop_pid "$pid"; done
    for ns in "${namespaces[@]}"; do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
    done
    for side in "${!wgpid[@]}"; do
        stop_pid "${wgpid[$side]}"
        rm -f "${sockdir}/${tag}${side}.sock"
    done
    for ns in "${namespaces[@]}"; do ip netns del "$ns" 2>/dev/null; done
    [ -n "$nft_table" ] && nft delete table inet "$nft_table" 2>/dev/null
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_udp_port() {
    # Below the ephemeral range, so nothing bound to port 0 takes it between the check and the bind.
    local port
    for _ in $(seq 200); do
        port=$(( 20000 + RANDOM % 12000 ))
        if [ -z "$(ss -Hlun "sport = :$port")" ]; then echo "$port"; return 0; fi
    done
    echo "no free UDP port found" >&2
    return 1
}

wait_for() {
    # wait_for SECONDS DESCRIPTION COMMAND...: polls every 0.1 s.
    local limit=$1 what=$2
    shift 2
    for _ in $(seq $(( limit * 10 ))); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.1
    done
    echo "timed out after ${limit} s waiting for ${what}" >&2
    return 1
}

start_wg_peer() {
    # start_wg_peer SIDE ADDRESS/PREFIX PORT KEYFILE PEER_PUBLIC PEER_PORT PEER_ALLOWED_IPS MTU
    # wireguard-go "${tag}SIDE" in the root namespace, its TUN in namespace "${tag}SIDE".
    local side=$1 address=$2 port=$3 keyfile=$4 peer_public=$5 peer_port=$6 peer_allowed=$7 mtu=$8
    local ns="${tag}${side}" tun="${tag}${side}"
    rm -f "${sockdir}/${tun}.sock"
    WG_PROCESS_FOREGROUND=1 LOG_LEVEL=error wireguard-go -f "$tun" >"$work/wg-${side}.log" 2>&1 &
    wgpid[$side]=$!
    wait_for 10 "wireguard-go ${tun} control socket" test -S "${sockdir}/${tun}.sock"
    namespaces+=("$ns")
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip link set "$tun" netns "$ns"
    wg set "$tun" private-key "$keyfile" listen-port "$port" \
        peer "$peer_public" endpoint "127.0.0.1:${peer_port}" allowed-ips "$peer_allowed"
    ip -n "$ns" addr add "$address" dev "$tun"
    ip -n "$ns" link set "$tun" mtu "$mtu" up
}

add_underlay_loss() {
    # add_underlay_loss PERCENT PORT...: random drop of UDP datagrams to those ports on the loopback INPUT hook
    # (a drop on output makes sendto fail with EPERM instead).
    local percent=$1
    shift
    local ports
    ports="$(IFS=,; echo "$*")"
    nft_table="${tag}loss"
    nft -f - <<NFT
table inet ${nft_table} {
  chain in {
    type filter hook input priority 0; policy accept;
    iifname "lo" udp dport { ${ports} } numgen random mod 100 < ${percent} counter drop
  }
}
NFT
}

underlay_dropped() {
    nft list table inet "$nft_table" | grep -o 'packets [0-9]*' | awk '{ print $2 }'
}

# CPU accounting around a transfer, to tell whether it was CPU-bound and who spent the CPU:
#   cpu_pids=(PID...); before="$(cpu_mark)"; ...transfer...; cpu_report "$before" BYTES NAME... (one name per pid)
# prints "cpu: machine busy B % of N CPUs (steal S %); NAME X.XX ... CPU-s/GB; machine Y.YY CPU-s/GB". Process times
# are user + system of all their threads (/proc/PID/stat); kernel work done in softirq context for one process may be
# charged to whoever was running, so the per-process figures are approximate, the machine total is not (it includes
# anything else running at the time: read the load average beside it).
cpu_pids=()
cpu_mark() {
    local pid fields
    awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $5 + $6, $9 }' /proc/stat | tr '\n' ' '
    date +%s.%N | tr '\n' ' '
    for pid in "${cpu_pids[@]}"; do
        fields="$(cut -d')' -f2- "/proc/$pid/stat" 2>/dev/null)" || fields=""
        if [ -n "$fields" ]; then awk '{ printf "%d ", $12 + $13 }' <<<"$fields"; else printf '0 '; fi
    done
    echo
}

cpu_report() {
    local before=$1 bytes=$2
    shift 2
    awk -v b="$before" -v a="$(cpu_mark)" -v bytes="$bytes" -v names="$*" -v hz="$(getconf CLK_TCK)" -v ncpu="$(nproc)" 'BEGIN {
        split(b, x, " "); split(a, y, " "); nn = split(names, n, " ")
        busy = (y[1] - x[1]) / hz; steal = (y[3] - x[3]) / hz; wall = y[4] - x[4]; gb = bytes / 1e9
        line = sprintf("cpu: machine busy %.0f %% of %d CPUs (steal %.0f %%);", 100 * busy / (wall * ncpu), ncpu, 100 * steal / (wall * ncpu))
        for (i = 1; i <= nn; i++) line = line sprintf(" %s %.2f", n[i], (y[4 + i] - x[4 + i]) / hz / gb)
        printf "%s CPU-s/GB; machine %.2f CPU-s/GB\n", line, busy / gb }'
}
