#!/usr/bin/env bash
# A few seconds of loadgen against a fresh chatd on loopback, over TCP and
# then over WebSockets, then a small scale run (200 held connections from
# two source addresses, probed): fails on any lost, duplicated or
# misdelivered delivery, or a failed probe (correctness, not speed).
#
#   bash benches/ci-smoke.sh            # debug build, about 20 s
#   PROFILE=release bash benches/ci-smoke.sh
#
# chatd listens on 127.0.0.1:0; its stdout lines say where (the first for
# the text port, the next for HTTP, since IRC is off). It is always stopped
# when this script exits, whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."

profile="${PROFILE:-debug}"
build_flags=()
[ "$profile" = release ] && build_flags=(--release)
cargo build "${build_flags[@]}" -p chatd --bin chatd -p chatd-benches --bin loadgen
bin="$(cd "${CARGO_TARGET_DIR:-target}/$profile" && pwd)"

work="$(mktemp -d)"
chatd_pid=""
cleanup() {
    if [ -n "$chatd_pid" ] && kill -0 "$chatd_pid" 2>/dev/null; then
        kill "$chatd_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$chatd_pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$chatd_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

# Flood control off: each smoke client sends more than the default 4 lines/s.
# The passes create 14 rooms, 12 of them from 127.0.0.1.
(cd "$work" && exec "$bin/chatd" --listen 127.0.0.1:0 --irc-listen none --http-listen 127.0.0.1:0 --metrics-listen none --max-per-ip 0 --max-clients 1000 \
    --flood-lines-per-sec 0 --max-rooms-created-per-source 100 >"$work/stdout" 2>"$work/stderr") &
chatd_pid=$!

addr=""
http=""
for _ in $(seq 100); do
    addr="$(sed -n '1s/^listening on //p' "$work/stdout" 2>/dev/null || true)"
    http="$(sed -n 's/^http listening on //p' "$work/stdout" 2>/dev/null || true)"
    [ -n "$addr" ] && [ -n "$http" ] && break
    kill -0 "$chatd_pid" 2>/dev/null || { echo "chatd exited early:"; cat "$work/stderr"; exit 1; }
    sleep 0.1
done
[ -n "$addr" ] && [ -n "$http" ] || { echo "chatd did not print its addresses in 10 s"; cat "$work/stderr"; exit 1; }
echo "chatd listening on $addr, HTTP on $http"

# One pass: 100 clients in 5 rooms, 500 messages/s (about 9,500
# deliveries/s) for 1 + 4 s; NAME says which, the rest are loadgen's
# arguments for it. A failure shows chatd's log tail and stops the script.
smoke() {
    local name=$1 status=0
    shift
    "$bin/loadgen" "$@" --setup-timeout 20 --server-pid "$chatd_pid" --quiet || status=$?
    if [ "$status" -ne 0 ]; then
        echo "loadgen $name smoke FAILED (exit $status); chatd log tail:"
        tail -n 20 "$work/stderr"
        exit "$status"
    fi
    echo "loadgen smoke passed ($name)"
}

chat=(--clients 100 --rooms 5 --rate 500 --size 64 --warmup 1 --duration 4 --drain 5)
smoke TCP --addr "$addr" "${chat[@]}"
# The same over WebSockets, in rooms of their own.
smoke WebSocket --mode ws --addr "$http" --room-prefix wsload "${chat[@]}"
# Scale mode, small: 4 rooms of 50 from two source addresses, held 1 s,
# a 20-message broadcast in room 0, the command and connection probes.
smoke scale --mode scale --addr "$addr" --room-prefix scale --clients 200 --rooms 4 --sources 2 \
    --hold 1 --probe-messages 20 --probe-rate 20 --drain 5
