#!/usr/bin/env bash
# Copyright (c) 2026 spdlog_sdnotify authors.
# Distributed under the MIT License (http://opensource.org/licenses/MIT)
# sdnotify-watch shows what systemd would: usage WATCH HELLO WORKER
set -uo pipefail
WATCH=$1 HELLO=$2 WORKER=$3
fail() { echo "FAIL: $*"; exit 1; }
expect() { grep -qF -- "$1" <<<"$out" || fail "no line with: $1"; }

echo "== the hello example"
out=$("$WATCH" -- "$HELLO" 2); rc=$?
echo "$out"
[[ $rc == 0 ]] || fail "exit status $rc, expected the child's 0"
expect 'state=active status="hello: ready" (READY=1)'
expect 'state=active status="hello: step 2/2"'
expect 'state=deactivating status="hello: done" (STOPPING=1)'

echo "== exit status and signals pass through"
"$WATCH" -- /bin/sh -c 'exit 7' >/dev/null; [[ $? == 7 ]] || fail "exit status 7 not passed through"
"$WATCH" -- /bin/sleep 30 >/dev/null & w=$!
sleep 0.5; kill -TERM $w; wait $w; rc=$?
[[ $rc == $((128 + 15)) ]] || fail "SIGTERM not forwarded to the child (status $rc)"

echo "== the worker example: ready by log line, reload on SIGHUP, stop on SIGTERM"
"$WATCH" --watchdog-usec 1000000 -- "$WORKER" > watch_worker.out 2>/dev/null & w=$!
sleep 1; kill -HUP $w; sleep 1.5; kill -TERM $w; wait $w; rc=$?
out=$(cat watch_worker.out); echo "$out"
[[ $rc == 0 ]] || fail "the worker exited with $rc"
expect 'state=active status="listening on :8080" (READY=1)'
expect 'state=reloading status="reloading (SIGHUP)" (RELOADING=1 MONOTONIC_USEC='
expect 'state=active status="configuration reloaded" (READY=1)'
expect 'state=deactivating status="stopping (SIGTERM)" (STOPPING=1)'
grep -q 'warning: watchdog' <<<"$out" && fail "the worker missed a watchdog deadline"

echo "== a hostile sender: everything PID 1 would drop or mangle is called out"
out=$("$WATCH" -- python3 -c '
import os, socket, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
addr = os.environ["NOTIFY_SOCKET"]
for d in [b"READY=1\nSTATUS=ok", b"STATUS=first\nSTATUS=second", b"STATUS=C:\\tmp",
          b"STATUS=bad\xff", b"STATUS=ab\0cd", b"STATUS=trailing\\", b"STATUS=" + b"x" * 5000]:
    s.sendto(d, addr)
    time.sleep(0.05)
'); rc=$?
echo "$out"
[[ $rc == 0 ]] || fail "the hostile sender exited with $rc"
expect 'warning: several STATUS= in one datagram: only the first counts'
expect "warning: backslash before 't' is removed by PID 1"
expect 'warning: Status message in notification message is not UTF-8 clean, ignoring.'
expect 'DROPPED by PID 1: Received notify message with embedded NUL bytes. Ignoring.'
expect 'DROPPED by PID 1: Out of memory.'
expect 'DROPPED by PID 1: Received notify message exceeded maximum size. Ignoring.'
echo "== an application that still sends its own READY=1 next to the library's"
out=$("$WATCH" -- python3 -c '
import os, socket, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
for d in [b"READY=1\nSTATUS=up", b"RELOADING=1", b"READY=1", b"READY=1\nSTATUS=again"]:
    s.sendto(d, os.environ["NOTIFY_SOCKET"])
    time.sleep(0.05)
')
echo "$out"
[[ $(grep -c 'warning: a second READY=1 with no RELOADING=1 between' <<<"$out") == 1 ]] ||
  fail "the second READY=1 without RELOADING was not pointed out exactly once"
echo "== a WATCHDOG_USEC= from the service sets the deadline sdnotify-watch checks"
out=$("$WATCH" -- python3 -c '
import os, socket, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(b"READY=1\nWATCHDOG_USEC=200000", os.environ["NOTIFY_SOCKET"])
time.sleep(0.6)
')
echo "$out"
expect 'warning: watchdog: no WATCHDOG=1 for 200000 us'
echo PASS
