#!/usr/bin/env bash
# Runs irctest's RFC 1459 and RFC 2812 server tests against chatd, each test
# against a fresh chatd on a fresh data directory, as irctest's own
# controllers start a fresh server per test: a long-lived server would carry
# channels, WHOWAS entries and LUSERS peaks from one test into the next.
#
#   tests/irctest/run.sh IRCTEST_CHECKOUT [CHATD_BINARY [TEST_FILE...]]
#
# With TEST_FILEs (paths inside the checkout, such as
# irctest/server_tests/read_marker.py), every test in them runs, whatever
# its marks; without, the RFC 1459 and RFC 2812 tests.
# IRCTEST_CHECKOUT is a clone of https://github.com/progval/irctest with its
# Python requirements installed; CHATD_BINARY defaults to
# target/release/chatd. Prints one line per test and the counts, and exits 0
# whatever the results (the counts are the output).
set -euo pipefail

irctest=$(cd "$1" && pwd)
chatd=$(realpath "${2:-target/release/chatd}")
marks='(RFC1459 or RFC2812) and not deprecated and not strict'
controller=irctest.controllers.external_server
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cd "$irctest"
if [ "$#" -gt 2 ]; then
    select=("${@:3}")
else
    select=(-m "$marks" irctest/server_tests)
fi
mapfile -t ids < <(python3 -m pytest --controller "$controller" --collect-only -q \
    -p no:cacheprovider "${select[@]}" 2>/dev/null | grep '^irctest/.*::')

passed=0 failed=0 skipped=0
for id in "${ids[@]}"; do
    data="$work/data"
    rm -rf "$data"
    # irctest expects the server to call itself My.Little.Server and sends
    # lines faster than a person would; the tests of a server password name
    # theirs, as irctest's own controllers configure it.
    extra=()
    case "$id" in *PasswordedConnectionRegistrationTestCase*) extra=(--irc-password testpassword) ;; esac
    "$chatd" --listen 127.0.0.1:0 --irc-listen 127.0.0.1:0 --data-dir "$data" \
        --server-name My.Little.Server --flood-lines-per-sec 0 "${extra[@]}" >"$work/out" 2>"$work/log" &
    pid=$!
    port=""
    for _ in $(seq 600); do
        port=$(sed -n 's/^irc listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$work/out")
        [ -n "$port" ] && break
        sleep 0.05
    done
    result=$(IRCTEST_SERVER_HOSTNAME=127.0.0.1 IRCTEST_SERVER_PORT="$port" \
        python3 -m pytest --controller "$controller" -q -p no:cacheprovider "$id" 2>&1 | tail -1 || true)
    kill -INT "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    case "$result" in
        *failed*) failed=$((failed + 1)); echo "FAILED  $id" ;;
        *passed*) passed=$((passed + 1)); echo "PASSED  $id" ;;
        *skipped*) skipped=$((skipped + 1)); echo "SKIPPED $id" ;;
        *) failed=$((failed + 1)); echo "FAILED  $id ($result)" ;;
    esac
done
echo "passed $passed, failed $failed, skipped $skipped, of ${#ids[@]}"
