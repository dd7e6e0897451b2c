#!/usr/bin/env bash
# chatd's IRC port, ngIRCd and InspIRCd under the same loadgen runs,
# interleaved: for each rate and each repetition, one fresh server of each
# kind in turn, so that whatever else the machine is doing hits all three
# alike. Run from the workspace root after
#
#   cargo build --release -p chatd -p chatd-benches --bin chatd --bin loadgen
#
#   benches/irc-servers/compare.sh OUT_FILE RATE...
#
# Environment: REPS (default 1), SERVERS (default "chatd ngircd inspircd";
# also chatd-ephemeral: chatd with --ephemeral, nothing stored),
# WARMUP (2), DURATION (10), DRAIN (5), IDLE_HOLD (2), CLIENTS (1000),
# TARGET (cargo's target directory, default target).
#
# Each run starts the server, lets loadgen connect, register and join
# CLIENTS clients into one channel, holds them idle IDLE_HOLD seconds
# (loadgen samples the server's VmRSS: RSS per idle connection), then
# sends RATE messages/s of 64 bytes for WARMUP + DURATION seconds, and
# stops the server. One JSON line per run goes to OUT_FILE: the server,
# the rate, /proc/loadavg before and after, the server's CPU seconds, and
# loadgen's --json summary.
set -u

out=${1:?usage: compare.sh OUT_FILE RATE...}
shift
[ $# -gt 0 ] || { echo "usage: compare.sh OUT_FILE RATE..." >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
target=${TARGET:-target}
chatd=$target/release/chatd
loadgen=$target/release/loadgen
reps=${REPS:-1}
servers=${SERVERS:-chatd ngircd inspircd}
clients=${CLIENTS:-1000}

# Ports in a range the project's other tests do not use; the two config
# files name the same ones.
declare -A port=([chatd]=16801 [chatd-ephemeral]=16801 [ngircd]=16802 [inspircd]=16803)
# Connections loadgen opens at once. Setup time is not compared, so each
# server gets what suits it: ngIRCd listens with a backlog of 10 (more at
# once means dropped SYNs and retransmissions a second apart); InspIRCd
# completes registrations once a second, so 8 at a time would take two
# minutes for 1,000; chatd takes loadgen's default.
declare -A concurrency=([chatd]=64 [chatd-ephemeral]=64 [ngircd]=8 [inspircd]=250)

# 1,000 sockets and then some: each server keeps one descriptor per client.
ulimit -n 20000 || exit 2

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

start() {
    case $1 in
    chatd | chatd-ephemeral)
        rm -rf "$scratch/chatd-data"
        storage=(--data-dir "$scratch/chatd-data")
        [ "$1" = chatd-ephemeral ] && storage=(--ephemeral)
        "$chatd" --listen 127.0.0.1:0 --irc-listen "127.0.0.1:${port[$1]}" "${storage[@]}" \
            --max-clients 2000 --max-per-ip 0 --flood-lines-per-sec 0 \
            >"$scratch/$1.log" 2>&1 &
        ;;
    ngircd)
        ngircd -n -f "$here/ngircd.conf" >"$scratch/ngircd.log" 2>&1 &
        ;;
    inspircd)
        inspircd --config "$here/inspircd.conf" --nofork --nopid --runasroot \
            >"$scratch/inspircd.log" 2>&1 &
        ;;
    esac
    pid=$!
    for _ in $(seq 100); do
        ss -Hltn "sport = :${port[$1]}" | grep -q LISTEN && return 0
        sleep 0.1
    done
    echo "compare.sh: $1 did not listen on ${port[$1]}" >&2
    cat "$scratch/$1.log" >&2
    return 1
}

stop() {
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    # The port must be free before the next server of this kind binds it.
    for _ in $(seq 100); do
        ss -Hltn "sport = :${port[$1]}" | grep -q LISTEN || return 0
        sleep 0.1
    done
}

for rate in "$@"; do
    for rep in $(seq "$reps"); do
        for server in $servers; do
            start "$server" || exit 2
            sleep 1
            before=$(cut -d' ' -f1-3 /proc/loadavg)
            when=$(date -u +%H:%M:%S)
            summary=$("$loadgen" --addr "127.0.0.1:${port[$server]}" --mode irc \
                --clients "$clients" --rooms 1 --size 64 --rate "$rate" \
                --warmup "${WARMUP:-2}" --duration "${DURATION:-10}" --drain "${DRAIN:-5}" \
                --idle-hold "${IDLE_HOLD:-2}" --server-pid "$pid" \
                --connect-concurrency "${concurrency[$server]}" --quiet --json)
            code=$?
            after=$(cut -d' ' -f1-3 /proc/loadavg)
            # The server's CPU time over its whole life (setup included):
            # user + system clock ticks, fields 14 and 15 of /proc/PID/stat.
            cpu=$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$pid/stat")
            stop "$server"
            printf '{"server":"%s","rate":%s,"rep":%s,"utc":"%s","loadavg_before":"%s","loadavg_after":"%s","cpu_secs":%s,"exit":%s,"loadgen":%s}\n' \
                "$server" "$rate" "$rep" "$when" "$before" "$after" "${cpu:-null}" "$code" "${summary:-null}" >>"$out"
            echo "$when $server rate $rate rep $rep: exit $code, load $before -> $after" >&2
        done
    done
done
