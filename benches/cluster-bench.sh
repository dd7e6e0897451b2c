#!/usr/bin/env bash
# loadgen against chatd clusters of several sizes, one run after another in
# the order given, each on a fresh database and Redis prefix (see the
# "Cluster" section of benches/README.md):
#
#   bash benches/cluster-bench.sh sqlite 1 2 4 sqlite 1 2 4
#
# A run is `sqlite` (one chatd on --data-dir) or a number of nodes sharing
# one PostgreSQL database and one Redis. Nodes share one port with
# --reuse-port (the kernel spreads the connections), or with SPREAD=addrs
# each listens on a port of its own and loadgen takes them in turn (every
# room's members spread over the nodes, evenly). Two more runs time a
# cross-node delivery: `cross` (2 nodes, each room's members taken in turn
# by node A and node B) and `local` (the same 2 nodes, every client on A).
#
# Environment: LOADGEN (loadgen's options), SPREAD (reuseport | addrs),
# PG (server URL without database), REDIS, LEASE (--node-lease), BUILD=0
# to skip the release build, KEEP_LOGS=1 to keep the nodes' logs. Prints
# one line per run, and each loadgen summary as JSON into $OUT (default: a
# temporary file, shown at the end).
# Every node is stopped and every database and prefix removed on exit,
# whatever happens. Needs psql and redis-cli.
set -euo pipefail
cd "$(dirname "$0")/.."

LOADGEN="${LOADGEN:---clients 200 --rooms 1 --rate 100 --size 64 --warmup 2 --duration 10 --drain 5}"
SPREAD="${SPREAD:-reuseport}"
PG="${PG:-postgres://root@127.0.0.1:5432}"
REDIS="${REDIS:-redis://127.0.0.1:6379}"
LEASE="${LEASE:-10}"
runs=("$@")
[ ${#runs[@]} -gt 0 ] || runs=(sqlite 1 2 4)

if [ "${BUILD:-1}" != 0 ]; then
    cargo build --release -p chatd --bin chatd -p chatd-benches --bin loadgen
fi
bin="$(cd "${CARGO_TARGET_DIR:-target}/release" && pwd)"

work="$(mktemp -d)"
OUT="${OUT:-$work/summaries.jsonl}"
pids=()
metrics=()
db=""
prefix=""

stop_nodes() {
    local pid
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    pids=()
    metrics=()
}

forget_run() {
    if [ -n "$db" ]; then
        psql -q -h 127.0.0.1 -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true
        db=""
    fi
    if [ -n "$prefix" ]; then
        redis-cli -u "$REDIS" --scan --pattern "${prefix}*" | xargs -r -d '\n' redis-cli -u "$REDIS" del >/dev/null || true
        prefix=""
    fi
}

cleanup() {
    stop_nodes
    forget_run
    [ "$OUT" = "$work/summaries.jsonl" ] && [ -s "$OUT" ] && cp "$OUT" "/tmp/cluster-bench-$$.jsonl" \
        && echo "loadgen summaries: /tmp/cluster-bench-$$.jsonl"
    if [ -n "${KEEP_LOGS:-}" ]; then echo "logs kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT INT TERM

# A free TCP port on 127.0.0.1, for nodes that must share a fixed one.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_node DIR LISTEN ARGS...: starts chatd in DIR, waits for its text
# port; sets node_addr to the address it listens on (not a subshell, so
# that pids keeps the process).
start_node() {
    local dir=$1 listen=$2 addr=""
    shift 2
    mkdir -p "$dir"
    (cd "$dir" && exec "$bin/chatd" --listen "$listen" --irc-listen none --http-listen none \
        --metrics-listen 127.0.0.1:0 --max-per-ip 0 --max-clients 10000 --flood-lines-per-sec 0 \
        --max-rooms-created-per-source 1000 "$@" >"$dir/stdout" 2>"$dir/stderr") &
    pids+=($!)
    for _ in $(seq 300); do
        addr="$(sed -n '1s/^listening on //p' "$dir/stdout" 2>/dev/null || true)"
        metrics_addr="$(sed -n 's/^metrics listening on //p' "$dir/stdout" 2>/dev/null || true)"
        [ -n "$addr" ] && [ -n "$metrics_addr" ] && break
        kill -0 "${pids[-1]}" 2>/dev/null || { echo "chatd exited early:" >&2; cat "$dir/stderr" >&2; exit 1; }
        sleep 0.1
    done
    [ -n "$addr" ] || { echo "chatd did not listen in 30 s" >&2; cat "$dir/stderr" >&2; exit 1; }
    node_addr=$addr
    metrics+=("$metrics_addr")
}

# The cluster counters of every node, summed: published, refused (a later
# seq was in the stream first), backfills, held messages dropped.
cluster_counts() {
    local m
    for m in "${metrics[@]}"; do curl -s "http://$m/metrics"; done | awk '
        /^chatd_cluster_published(_total)? / { p += $2 } /^chatd_cluster_publish_refused(_total)? / { r += $2 }
        /^chatd_cluster_backfills(_total)? / { b += $2 } /^chatd_cluster_held_dropped(_total)? / { d += $2 }
        END { printf "%d/%d/%d/%d", p, r, b, d }'
}

# CPU seconds (user + system) a process has used so far.
cpu_secs() {
    awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$1/stat"
}

printf '%-8s %-5s %-9s %12s %12s %9s %9s %9s %6s %5s %4s %-24s %s\n' run load spread "offered/s" "delivered/s" \
    "p50 ms" "p99 ms" "max ms" lost dup cut "publ/refused/backf/drop" "chatd CPU s (each node)"
k=0
for run in "${runs[@]}"; do
    k=$((k + 1))
    dir="$work/run$k"
    load="$(cut -d' ' -f1 /proc/loadavg)"
    addrs=()
    spread="-"
    nodes=$run spread_run=$SPREAD
    case "$run" in cross | local) nodes=2 spread_run=addrs ;; esac
    if [ "$run" = sqlite ]; then
        start_node "$dir/node1" 127.0.0.1:0 --data-dir "$dir/node1/data"
        addrs+=("$node_addr")
    else
        db="bench_cluster_$$_$k"
        prefix="bench-cluster-$$-$k:"
        psql -q -h 127.0.0.1 -d postgres -c "CREATE DATABASE $db"
        spread="$spread_run"
        port=0
        [ "$spread_run" = reuseport ] && port="$(free_port)"
        for n in $(seq "$nodes"); do
            cluster=(--database-url "$PG/$db" --redis-url "$REDIS" --redis-prefix "$prefix"
                --node-name "node$n" --node-lease "$LEASE")
            if [ "$spread_run" = reuseport ]; then
                start_node "$dir/node$n" "127.0.0.1:$port" --reuse-port "${cluster[@]}"
                [ "$n" = 1 ] && addrs+=("$node_addr")
            else
                start_node "$dir/node$n" 127.0.0.1:0 "${cluster[@]}"
                [ "$run" = local ] && [ "$n" != 1 ] || addrs+=("$node_addr")
            fi
        done
    fi
    cpu_before=()
    for pid in "${pids[@]}"; do cpu_before+=("$(cpu_secs "$pid")"); done
    addr_args=()
    for a in "${addrs[@]}"; do addr_args+=(--addr "$a"); done
    # shellcheck disable=SC2086 # LOADGEN is a list of options
    "$bin/loadgen" "${addr_args[@]}" $LOADGEN --setup-timeout 60 --server-pid "${pids[0]}" --json --quiet \
        >"$dir/summary.json" 2>"$dir/loadgen.err" || echo "run $k ($run): loadgen exited $?" >&2
    cpu=""
    for i in "${!pids[@]}"; do
        cpu+="$(awk -v a="${cpu_before[$i]}" -v b="$(cpu_secs "${pids[$i]}")" 'BEGIN { printf "%.1f ", b - a }')"
    done
    counts=-
    [ "$run" = sqlite ] || counts="$(cluster_counts)"
    python3 - "$run" "$load" "$spread" "$cpu" "$dir/summary.json" "$counts" <<'EOF'
import json, sys
run, load, spread, cpu, path, counts = sys.argv[1:]
try:
    s = json.load(open(path))
except ValueError:
    print(f"{run:<8} {load:<5} {spread:<9} loadgen gave no summary")
    sys.exit()
lat = s.get("latency") or {}
print(f"{run:<8} {load:<5} {spread:<9} {s['offered_deliveries_per_sec'] or 0:12,.0f} "
      f"{s['achieved_deliveries_per_sec'] or 0:12,.0f} {lat.get('p50_ms', 0):9.2f} {lat.get('p99_ms', 0):9.2f} "
      f"{lat.get('max_ms', 0):9.1f} {s['lost']:6} {s['duplicates']:5} {s['cut']:4} {counts:<24} {cpu}")
if s.get("first_error"):
    print(f"         first error: {s['first_error']}")
EOF
    { printf '{"run":"%s","load":%s,"spread":"%s","summary":' "$run" "$load" "$spread"; tr -d '\n' <"$dir/summary.json"; echo '}'; } >>"$OUT"
    for f in "$dir"/node*/stderr; do
        grep -E -i ' (error|warn)' "$f" | head -n 3 | sed "s|^|    ${f#"$dir"/}: |" || true
    done
    stop_nodes
    forget_run
done
