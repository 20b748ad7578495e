#!/usr/bin/env bash
# Copyright (c) 2026 spdlog_sdnotify authors.
# Distributed under the MIT License (http://opensource.org/licenses/MIT)
# sdnotify-watch runs the hello example and shows what systemd would: usage WATCH HELLO
set -uo pipefail
out=$("$1" -- "$2" 2); rc=$?
echo "$out"
fail() { echo "FAIL: $*"; exit 1; }
[[ $rc == 0 ]] || fail "exit status $rc, expected the child's 0"
grep -q 'state=active status="hello: ready"' <<<"$out" || fail "no active state with the ready status"
grep -q 'state=active status="hello: step 2/2"' <<<"$out" || fail "no last progress status"
grep -q 'state=deactivating status="hello: done"' <<<"$out" || fail "no deactivating state"
"$1" -- /bin/sh -c 'exit 7'; [[ $? == 7 ]] || fail "the child's exit status is not passed through"
echo PASS
