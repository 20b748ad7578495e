#!/usr/bin/env bash
# Copyright (c) 2026 spdlog_sdnotify authors.
# Distributed under the MIT License (http://opensource.org/licenses/MIT)
#
# One system test: runs notify_probe ($PROBE) as a unit under a real systemd (harness.sh) and
# checks what `systemctl show` and the journal say, as an operator would.
#   run_case.sh list SUITE     the case names for a suite (read by CMake)
#   run_case.sh setup          build the rootfs (cached) and boot the container
#   run_case.sh teardown       power it off
#   run_case.sh CASE           run one case
# Exit 0 pass, 1 fail, 77 skipped (no root / no way to boot a container), with the reason printed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
H=$here/harness.sh
SUITE=${RSD_SUITE:-bookworm}
# podman: trixie's systemd 257 with Debian's podman 5.4, conmon and crun (harness
# RSD_FLAVOUR=podman, its own rootfs and machine), for the Quadlet cases only; podman_bookworm:
# bookworm's 252 with podman 4.3 (no Quadlet: a unit that calls podman run).
case $SUITE in
  podman) export RSD_FLAVOUR=podman RSD_SUITE=trixie ;;
  podman_bookworm) export RSD_FLAVOUR=podman RSD_SUITE=bookworm ;;
  *) export RSD_SUITE=$SUITE ;;
esac

skip() {
  if [[ ${SPDLOG_SDNOTIFY_REQUIRE_SYSTEM_TESTS:-0} == 1 ]]; then
    echo "FAIL: system tests are required here but cannot run: $*"; exit 1
  fi
  echo "SKIPPED: $*"; exit 77
}
fail() { echo "FAIL: $*"; exit 1; }

cases_common=(ready status_lf status_cr status_injected_stopping status_backslashes
              status_invalid_utf8 status_noncharacter status_nul status_10k status_controls
              status_empty_clears stopping reloading_by_notify reload_via_systemctl
              watchdog_trigger errno pid1_refuses_raw_noncharacter sink_burst
              worker_ready_by_log worker_stop worker_watchdog_alive worker_watchdog_unhealthy
              worker_reload worker_slow_start_extended slow_start_without_extend_times_out
              worker_hung_start_times_out worker_slow_stop_extended worker_hung_stop_killed
              shutdown_then_exit_keeps_the_last_status exit_without_shutdown_loses_it
              two_errors_a_second_apart remain_after_exit_stays_active
              stop_at_exit_opt_in_deactivates ignored_sigterm_sends_no_stopping
              sigterm_sends_stopping forked_children_never_hang
              forked_children_hang_on_a_sink_that_locks
              worker_watchdog_by_records_alive worker_watchdog_by_records_hung
              worker_watchdog_timer_misses_a_hang
              worker_private_network worker_user_nobody
              example_request_worker example_batch_job example_worker_service
              user_ready user_worker_reload user_worker_stop
              app_handler_before_stops_cleanly app_handler_after_stops_cleanly
              app_handler_chained_stops_cleanly app_reload_failed_returns_with_the_error
              app_reload_silent_ends_after_reload_timeout app_production_level_said_at_warning
              app_job_exit_keeps_the_last_line app_job_shutdown_exit_keeps_the_last_line
              app_job_shutdown__exit_keeps_the_last_line app_job_return_keeps_the_last_line)
cases_trixie=(notify_reload worker_notify_reload app_notify_reload_failed_returns_with_the_error
              example_status_summary)
cases_podman=(worker_quadlet worker_quadlet_reload worker_quadlet_watchdog
              worker_quadlet_watchdog_not_passed worker_quadlet_slow_start_not_extended)
cases_podman_bookworm=(worker_podman_run worker_podman_run_watchdog)

if [[ ${1:-} == list ]]; then
  [[ ${2:-} == podman ]] && { printf '%s\n' "${cases_podman[@]}"; exit 0; }
  [[ ${2:-} == podman_bookworm ]] && { printf '%s\n' "${cases_podman_bookworm[@]}"; exit 0; }
  printf '%s\n' "${cases_common[@]}"
  [[ ${2:-} == trixie ]] && printf '%s\n' "${cases_trixie[@]}"
  exit 0
fi

[[ $(id -u) == 0 ]] || skip "needs root to boot systemd in systemd-nspawn (run the suite as root)"
grep -qw overlay /proc/filesystems 2>/dev/null || modprobe overlay 2>/dev/null ||
  skip "the kernel has no overlayfs, which the container's volatile root needs"

case ${1:-} in
  setup) "$H" setup && "$H" up; exit $? ;;
  teardown) "$H" down; exit $? ;;
esac

CASE=${1:?usage: run_case.sh CASE}
[[ -n ${PROBE:-} && -x $PROBE ]] || fail "PROBE (the notify_probe binary) is not set"
[[ $CASE != worker_* || ( -n ${WORKER:-} && -x $WORKER ) ]] || fail "WORKER (the worker_probe binary) is not set"
[[ $CASE != example_* || -d ${EXAMPLES:-/nonexistent} ]] || fail "EXAMPLES (the examples' build folder) is not set"
[[ $CASE != app_* || ( -n ${SERVICE_PROBE:-} && -x $SERVICE_PROBE ) ]] || fail "SERVICE_PROBE is not set"
OUT=$(mktemp); trap 'rm -f "$OUT"' EXIT

# run HARNESS-OPTIONS -- PROBE-ARGS: the unit is named after the case; the container is kept up.
# EXE=... picks another program than the probe (the worker probe, an example).
run() {
  local opts=()
  while [[ $# -gt 0 && $1 != -- ]]; do opts+=("$1"); shift; done
  shift
  "$H" run --keep -u "sdn-$CASE" -t "${TIMEOUT:-40}" "${opts[@]}" "${EXE:-$PROBE}" "$@" > "$OUT" 2>&1
  local rc=$?
  cat "$OUT"
  return $rc
}
# The value of a property in the final `systemctl show` section.
shown() { sed -n '/^=== systemctl show/,/^=== systemctl status/p' "$OUT" | sed -n "s/^$1=//p"; }
# Seconds from the main process's start to the last state change (failed, inactive, ...).
elapsed() {
  awk -v a="$(shown ExecMainStartTimestampMonotonic)" -v b="$(shown StateChangeTimestampMonotonic)" \
    'BEGIN{printf "%.2f", (b-a)/1e6}'
}
journal() { sed -n '/^=== journal/,/^=== timings/p' "$OUT"; }
# Whether the journal has a line matching the ERE. Not `journal | grep -q`: with pipefail, grep
# quitting at the first match can fail the pipeline (SIGPIPE to the writer).
jhas() { journal | grep -E -- "$1" >/dev/null; }
expect() {  # NAME VALUE
  local got; got=$(shown "$1")
  [[ $got == "$2" ]] || fail "$1: expected '$2', got '$got'"
}
# PID 1's lines for a notify message it dropped, refused or cut (systemd 252 and 257 wording).
pid1_refusals='[Nn]otif[a-z]* message.*[Ii]gnor|not UTF-8 clean|Out of memory|exceeded maximum size|embedded NUL|reception only permitted|overly long|truncated'
pid1_ignored_nothing() {
  if jhas "$pid1_refusals"; then
    fail "PID 1 dropped or refused a message: $(journal | grep -E "$pid1_refusals")"
  fi
}
# A hostile STATUS: sent after READY, it must show sanitised and leave the unit running.
hostile_status() {  # PROBE-TEXT EXPECTED-STATUS
  run -w active -w "prop:StatusText=$2" -- ready:warming-up sleep:300 "status:$1" forever ||
    fail "StatusText never became the expected sanitised text"
  expect StatusText "$2"
  expect ActiveState active
  expect SubState running
  pid1_ignored_nothing
}

fffd=$'\xef\xbf\xbd'
case $CASE in
  ready)
    run -w active -w 'prop:StatusText=listening on :8080' -- 'ready:listening on :8080' forever ||
      fail "the unit did not become active with the status"
    expect ActiveState active
    expect SubState running
    expect StatusText 'listening on :8080'
    pid1_ignored_nothing ;;
  status_lf) hostile_status 'line1\nline2' 'line1 line2' ;;
  status_cr) hostile_status 'line1\rline2\r\nline3' 'line1 line2  line3' ;;
  status_injected_stopping) hostile_status 'progress 50%\nSTOPPING=1' 'progress 50% STOPPING=1' ;;
  status_backslashes) hostile_status 'C:\\tmp\\x20end \\' 'C:\tmp\x20end \' ;;
  status_invalid_utf8) hostile_status 'bad\xff\xfeend' "bad${fffd}${fffd}end" ;;
  status_noncharacter) hostile_status 'non\xef\xbf\xbfchar' "non${fffd}${fffd}${fffd}char" ;;
  status_nul) hostile_status 'ab\0cd' 'abcd' ;;
  status_controls) hostile_status 'tab\there esc\e[31m bell\x07' $'tab\there esc [31m bell ' ;;
  status_10k)
    want="$(printf 'x%.0s' $(seq 4085))…"
    run -w active -w "prop:StatusText=$want" -- ready:warming-up sleep:300 status-fill:x:10240 forever ||
      fail "a 10 KB status did not show as 4085 x and a marker"
    expect ActiveState active
    pid1_ignored_nothing ;;
  status_empty_clears)
    run -w active -w 'prop:StatusText=something' -w 'prop:StatusText=' -- \
      ready:something sleep:1000 status: forever || fail "an empty status did not clear"
    expect StatusText ''
    expect ActiveState active ;;
  stopping)
    run -w active -w prop:ActiveState=deactivating -w 'prop:StatusText=shutting down' -w inactive -- \
      ready:up sleep:1500 'stopping:shutting down' sleep:2500 ||
      fail "STOPPING=1 did not take the unit through deactivating to inactive"
    jhas 'Deactivated successfully' || fail "the unit did not end with success"
    pid1_ignored_nothing ;;
  reloading_by_notify)
    run -w active -w prop:ActiveState=reloading -w prop:ActiveState=active -w 'prop:StatusText=reloaded' -- \
      ready:up sleep:1000 reloading:reloading sleep:2000 ready:reloaded forever ||
      fail "RELOADING=1 then READY=1 did not go reloading -> active"
    expect ActiveState active
    expect SubState running
    pid1_ignored_nothing ;;
  reload_via_systemctl)
    run -p 'ExecReload=/bin/kill -HUP $MAINPID' \
        -w active -w do:reload -w prop:ActiveState=reloading -w 'prop:StatusText=reloaded 1' \
        -w prop:ActiveState=active -- on-hup ready:serving forever ||
      fail "systemctl reload did not go reloading -> active"
    expect ActiveState active
    expect StatusText 'reloaded 1'
    pid1_ignored_nothing ;;
  notify_reload)
    run -p Type=notify-reload \
        -w active -w do:reload -w prop:ActiveState=reloading -w 'prop:StatusText=reloaded 1' \
        -w prop:ActiveState=active -- on-hup ready:serving forever ||
      fail "Type=notify-reload: systemctl reload did not go reloading -> active"
    expect ActiveState active
    expect Type notify-reload
    jhas 'Reloaded' || fail "no 'Reloaded' line in the journal"
    pid1_ignored_nothing ;;
  watchdog_trigger)
    run -w active -w failed -- ready:up sleep:500 watchdog-trigger forever ||
      fail "WATCHDOG=trigger did not fail the unit"
    expect Result watchdog
    expect ActiveState failed ;;
  errno)
    run -w active -w prop:StatusErrno=5 -- ready:up 'status:disk error' errno:5 forever ||
      fail "ERRNO=5 did not show as StatusErrno"
    expect StatusText 'disk error'
    expect ActiveState active ;;
  pid1_refuses_raw_noncharacter)
    # Why the sanitiser maps U+FFFF: sent raw, PID 1 refuses it and clears the status.
    run -w active -w 'log:not UTF-8 clean' -- ready:before sleep:300 'raw:STATUS=x\xef\xbf\xbfy' forever ||
      fail "PID 1 accepted a raw noncharacter (the sanitiser's rule would be unneeded)"
    expect StatusText '' ;;
  sink_burst)
    # A service logs progress as fast as it can for 2 s through a status sink. Only its very
    # last record says "(last)".
    run --debug-pid1 -w active -w 'status:^progress [0-9]+ \(last\)$' -w sleep:1.5 -- \
      ready:starting log-burst:2000 forever || fail "the last record never became StatusText"
    [[ $(shown StatusText) =~ ^progress\ [0-9]+\ \(last\)$ ]] ||
      fail "StatusText is '$(shown StatusText)', not the last record"
    last=$(journal | sed -n 's/.*probe: last status line: //p' | tail -1)
    [[ -z $last ]] || expect StatusText "$last"  # the journal may rate-limit the probe's line
    expect ActiveState active
    expect SubState running
    pid1_ignored_nothing
    # Coalesced: with the default min_interval (500 ms), at most 2 s / 0.5 s + 2 STATUS.
    sent=$(journal | sed -n 's/.*probe: dispatcher sent \([0-9]*\) STATUS.*/\1/p' | tail -1)
    n=$(journal | grep -c 'Got notification message from PID .*STATUS=progress' || true)
    echo "the probe sent ${sent:-?} STATUS datagrams; PID 1 logged $n"
    (( n >= 1 && n <= 6 )) || fail "PID 1 got $n STATUS messages; expected 1..6"
    [[ -z $sent ]] || (( sent <= 6 )) || fail "the dispatcher sent $sent STATUS; expected <= 6" ;;
  shutdown_then_exit_keeps_the_last_status)
    # Three lines, spdlog::shutdown(), _exit(0): the third line must be what systemctl shows.
    run -p RemainAfterExit=yes -w active -w sleep:1 -- \
        ready:up log:line1 sleep:100 log:line2 log:line3 shutdown-exit ||
      fail "the unit did not become active"
    expect ActiveState active
    expect SubState exited
    expect StatusText line3
    pid1_ignored_nothing ;;
  exit_without_shutdown_loses_it)
    # The control for the case above: without spdlog::shutdown() the text pending within
    # min_interval dies with the process (what shutdown() now prevents).
    run -p RemainAfterExit=yes -w active -w sleep:1 -- \
        ready:up log:line1 sleep:100 log:line2 log:line3 exit-now ||
      fail "the unit did not become active"
    expect SubState exited
    expect StatusText line1 ;;
  two_errors_a_second_apart)
    # An error holds the status against info lines, but a newer error replaces it at once.
    TIMEOUT=8 run -w active -w 'prop:StatusText=E1' -w 'prop:StatusText=E2' -- \
        ready:up log-error:E1 sleep:1000 log-error:E2 log:info-after-E2 forever ||
      fail "the second error did not replace the first within a few seconds (sticky hold)"
    expect StatusText E2 ;;
  remain_after_exit_stays_active)
    # A Type=notify RemainAfterExit=yes job with a lifecycle finishes and returns from main():
    # it stays "active (exited)" with its last status (no STOPPING at exit by default).
    run -p RemainAfterExit=yes -w active -w sleep:1.5 -- lifecycle:started log:started \
        sleep:600 'log:work done' || fail "the job did not become active"
    expect ActiveState active
    expect SubState exited
    expect StatusText 'work done'
    jhas 'STOPPING=1' && fail "STOPPING was sent at exit"
    true ;;
  stop_at_exit_opt_in_deactivates)
    # The control for the case above: with stop_at_exit the same job ends inactive.
    run --debug-pid1 -p RemainAfterExit=yes -w active -w inactive -- lifecycle-stop-at-exit:started \
        log:started sleep:600 'log:work done' || fail "the job did not end inactive"
    jhas 'STOPPING=1' || fail "no STOPPING=1 at exit" ;;
  ignored_sigterm_sends_no_stopping)
    # SIGTERM ignored before the lifecycle: a kill -TERM changes nothing, and says nothing.
    run --debug-pid1 -w active -w do:kill-TERM -w sleep:1.5 -- ignore-term lifecycle-signals:up \
        log:up forever || fail "the unit did not start"
    expect ActiveState active
    expect SubState running
    jhas 'STOPPING=1' && fail "STOPPING=1 sent for an ignored SIGTERM"
    true ;;
  sigterm_sends_stopping)
    # The control for the case above: the same unit without SIG_IGN reports the stop.
    run --debug-pid1 -w active -w do:kill-TERM -w inactive -- lifecycle-signals:up log:up forever ||
      fail "SIGTERM did not end the unit"
    jhas 'STOPPING=1' || fail "no STOPPING=1 on SIGTERM" ;;
  forked_children_never_hang)
    # 100 children forked at random moments while three threads log, each returning through exit().
    TIMEOUT=60 run -w active -w 'status:^forked 100 children$' -- lifecycle-signals:up log:up \
        fork-children:100 forever || fail "the forking service did not finish"
    jhas 'fork-children: 100 children, 0 hung, 0 failed' || fail "a forked child hung or failed"
    expect ActiveState active ;;
  forked_children_hang_on_a_sink_that_locks)
    # The control for the case above: the same unit with a sink that takes a lock in front of
    # the status sink (as 0.1.0's did) has children that hang.
    TIMEOUT=90 run -w active -w 'status:^forked 100 children$' -- lifecycle-signals:up log:up \
        fork-children-locking:100 forever || fail "the forking service did not finish"
    jhas 'fork-children: 100 children, [1-9][0-9]* hung' ||
      fail "no child hung with a locking sink: the case above proves nothing"
    journal | grep -E 'fork-children: 100 children' ;;
  worker_watchdog_by_records_alive)
    # alive_when: pings only while the main loop logs; a loop that keeps turning stays up.
    EXE=$WORKER TIMEOUT=60 run -p WatchdogSec=2 -w active -w sleep:10 -w prop:ActiveState=active -- \
        --watchdog-by-records 1 --requests-every 500 || fail "a turning loop did not stay up"
    expect NRestarts 0
    expect Result success ;;
  worker_watchdog_by_records_hung)
    # The same worker whose main loop stops after 1 s: the watchdog catches it.
    EXE=$WORKER run -p WatchdogSec=2 -w active -w failed -- --watchdog-by-records 1 \
        --requests-every 500 --hang-after 1000 || fail "a hung loop was not caught by the watchdog"
    expect Result watchdog
    took=$(elapsed)
    echo "failed $took s after the start (loop hung at 1 s)"
    awk -v t="$took" 'BEGIN{exit !(t < 6)}' || fail "the watchdog took $took s" ;;
  worker_watchdog_timer_misses_a_hang)
    # Why timer pings prove little: the same hung loop, pinged by our thread alone, stays up.
    EXE=$WORKER run -p WatchdogSec=2 -w active -w sleep:5 -w prop:ActiveState=active -- \
        --watchdog-by-timer 1 --requests-every 500 --hang-after 1000 ||
      fail "timer pings did not keep the hung worker up (then they prove more than claimed)"
    expect NRestarts 0 ;;
  # The worker probe: an ordinary app plus set-up lines (tests/system/worker_probe.cpp).
  worker_ready_by_log)
    EXE=$WORKER run -w sleep:0.8 -w prop:ActiveState=activating -w active \
        -w 'status:^(listening on :8080|handled [0-9]+ requests)$' -- --start-delay 1500 ||
      fail "the unit did not go activating -> active on its 'listening on' line"
    jhas 'listening on :8080' || fail "no 'listening on' line"
    expect ActiveState active
    pid1_ignored_nothing ;;
  worker_stop)
    EXE=$WORKER run --debug-pid1 --stop -w active -- ||
      fail "the worker did not start"
    # 252 logs "from PID N (A, B)", 257 "from PID N: A, B".
    jhas 'Got notification message from PID [0-9]+(: | \()STOPPING=1, STATUS=stopping \(SIGTERM\)' ||
      fail "PID 1 got no STOPPING=1 on systemctl stop"
    jhas 'shut down cleanly' || fail "the app's own SIGTERM handling did not run"
    jhas 'Deactivated successfully' || fail "the unit did not end with Result=success"
    jhas 'Failed with result' && fail "the unit failed"
    pid1_ignored_nothing ;;
  worker_watchdog_alive)
    EXE=$WORKER TIMEOUT=60 run -p WatchdogSec=2 -w active -w sleep:10 -w prop:ActiveState=active -- ||
      fail "a WatchdogSec=2 unit did not stay active for 10 s"
    expect NRestarts 0
    expect Result success
    expect SubState running
    expect WatchdogUSec 2s ;;
  worker_watchdog_unhealthy)
    EXE=$WORKER run -p WatchdogSec=2 -w active -w failed -- --unhealthy-after 1500 ||
      fail "an unhealthy worker was not killed by the watchdog"
    expect Result watchdog
    jhas 'Watchdog timeout' || fail "no watchdog timeout in the journal" ;;
  worker_reload)
    EXE=$WORKER run -p 'ExecReload=/bin/kill -HUP $MAINPID' -w active -w do:reload \
        -w prop:ActiveState=reloading -w 'prop:StatusText=configuration reloaded' \
        -w prop:ActiveState=active -- ||
      fail "systemctl reload did not go reloading -> active"
    expect ActiveState active
    pid1_ignored_nothing ;;
  worker_notify_reload)
    EXE=$WORKER run -p Type=notify-reload -w active -w do:reload -w prop:ActiveState=reloading \
        -w 'prop:StatusText=configuration reloaded' -w prop:ActiveState=active -- ||
      fail "Type=notify-reload: systemctl reload did not go reloading -> active"
    jhas 'Reloaded' || fail "no 'Reloaded' line in the journal"
    pid1_ignored_nothing ;;
  worker_slow_start_extended)
    # A start that logs a step every second for 6 s earns its extensions.
    EXE=$WORKER run -p TimeoutStartSec=2 -w active -- --start-delay 6000 ||
      fail "a 6 s start that logs progress did not survive TimeoutStartSec=2"
    expect ActiveState active
    expect Result success
    jhas 'loading: step 5' || fail "no progress lines"
    jhas 'listening on :8080' || fail "no 'listening on' line" ;;
  worker_hung_start_times_out)
    # The same unit, but the start hangs after its first line: no progress, no extension
    # beyond the one that line earned, so TimeoutStartSec= still catches it.
    # (The hung program ignores the SIGTERM that follows too, so TimeoutStopSec=1 ends it.)
    EXE=$WORKER run -p TimeoutStartSec=2 -p TimeoutStopSec=1 -w failed -- --start-hang 1 ||
      fail "a hung start was not failed by TimeoutStartSec=2"
    expect Result timeout
    jhas '[Ss]tart operation timed out' || fail "no start timeout in the journal"
    took=$(elapsed)
    echo "failed $took s after the start (2 s, one 3 s extension earned by its first line, 1 s stop)"
    awk -v t="$took" 'BEGIN{exit !(t < 8)}' || fail "the hung start took $took s to fail" ;;
  worker_slow_stop_extended)
    # A shutdown that logs a step every second for 5 s, with TimeoutStopSec=2: a clean exit.
    EXE=$WORKER TIMEOUT=40 run -p TimeoutStopSec=2 -w active -w do:stop -w inactive -- \
        --stop-delay 5000 || fail "a 5 s stop that logs progress did not end inactive"
    expect Result success
    jhas 'draining: step 4' || fail "no progress lines during the stop"
    jhas 'shut down cleanly' || fail "the worker did not finish its shutdown" ;;
  worker_hung_stop_killed)
    # A shutdown that hangs after its first line: TimeoutStopSec= kills it.
    EXE=$WORKER TIMEOUT=40 run -p TimeoutStopSec=2 -w active -w do:stop -w failed -- \
        --stop-hang 1 || fail "a hung stop was not killed by TimeoutStopSec=2"
    expect Result timeout
    jhas 'shut down cleanly' && fail "the hung worker cannot have shut down cleanly"
    true ;;
  worker_private_network)
    # PrivateNetwork=yes: no abstract sockets of the host's netns, but /run/systemd/notify works.
    EXE=$WORKER run -p PrivateNetwork=yes -w active -w 'status:^handled [0-9]+ requests$' -- \
        --requests-every 500 || fail "the worker did not report with PrivateNetwork=yes"
    expect ActiveState active
    pid1_ignored_nothing ;;
  worker_user_nobody)
    EXE=$WORKER run -p User=nobody -p WatchdogSec=2 -w active -w sleep:3 \
        -w 'status:^handled [0-9]+ requests$' -- --requests-every 500 ||
      fail "the worker did not report as User=nobody"
    expect ActiveState active
    expect NRestarts 0
    jhas 'Failed with result' && fail "the unit failed"
    pid1_ignored_nothing ;;
  # The same under the user manager (`systemctl --user`, user@1500.service): its own
  # NOTIFY_SOCKET under $XDG_RUNTIME_DIR/systemd/notify, the same parser.
  user_ready)
    run --user -w active -w 'prop:StatusText=listening on :8080' -- \
        'ready:listening on :8080' forever || fail "the user unit did not become active with the status"
    expect ActiveState active
    expect StatusText 'listening on :8080'
    [[ $(shown ControlGroup) == */user@1500.service/* ]] ||
      fail "not run by the user manager: ControlGroup=$(shown ControlGroup)"
    pid1_ignored_nothing ;;
  user_worker_reload)
    EXE=$WORKER run --user -p 'ExecReload=/bin/kill -HUP $MAINPID' -w active \
        -w 'status:^(listening on :8080|handled [0-9]+ requests)$' -w do:reload \
        -w prop:ActiveState=reloading -w 'prop:StatusText=configuration reloaded' \
        -w prop:ActiveState=active -- ||
      fail "systemctl --user reload did not go reloading -> active"
    expect ActiveState active
    [[ $(shown ControlGroup) == */user@1500.service/* ]] ||
      fail "not run by the user manager: ControlGroup=$(shown ControlGroup)"
    pid1_ignored_nothing ;;
  user_worker_stop)
    EXE=$WORKER run --user --debug-pid1 --stop -w active -- || fail "the worker did not start"
    jhas 'Got notification message from PID [0-9]+(: | \()STOPPING=1, STATUS=stopping \(SIGTERM\)' ||
      fail "the user manager got no STOPPING=1 on systemctl --user stop"
    jhas 'shut down cleanly' || fail "the app's own SIGTERM handling did not run"
    jhas 'Failed with result' && fail "the unit failed"
    expect Result success
    pid1_ignored_nothing ;;
  # The worker in a podman container, as a Quadlet unit (.container with Notify=true): podman
  # run --sdnotify=container gives the container a socket of conmon's, and conmon (the unit's main
  # process after MAINPID=) relays what arrives there to PID 1.
  worker_quadlet)
    EXE=$WORKER run --quadlet --debug-pid1 -w active -w 'status:^handled [0-9]+ requests$' \
        -w do:status -w do:stop -w prop:ActiveState=deactivating -w inactive -- ||
      fail "the Quadlet unit did not go active -> 'handled N requests' -> deactivating -> inactive"
    mid=$(sed -n '/^=== systemctl status .*(during the waits)/,/^did: status/p' "$OUT")
    grep -q 'Active: active (running)' <<<"$mid" || fail "systemctl status did not say active (running)"
    grep -Eq 'Status: "handled [0-9]+ requests"' <<<"$mid" || fail "systemctl status did not show the worker's line"
    grep -Eq 'Main PID: [0-9]+ \(conmon\)' <<<"$mid" || fail "the unit's main process is not conmon"
    conmon=$(journal | sed -n 's/.*Got notification message from PID [0-9]*: MAINPID=\([0-9]*\).*/\1/p' | head -1)
    [[ -n $conmon ]] || fail "podman did not hand the unit over to conmon (no MAINPID=)"
    jhas "Got notification message from PID $conmon: READY=1, STATUS=listening on :8080" ||
      fail "READY=1 did not arrive through conmon"
    jhas "Got notification message from PID $conmon: STATUS=handled [0-9]+ requests" ||
      fail "the worker's STATUS lines did not arrive through conmon"
    jhas "Got notification message from PID $conmon: STOPPING=1, STATUS=stopping \(SIGTERM\)" ||
      fail "STOPPING=1 did not arrive through conmon on systemctl stop"
    jhas 'shut down cleanly' || fail "the worker's own SIGTERM handling did not run"
    # The stopped unit is garbage-collected at once: its Result is PID 1's line.
    jhas "sdn-$CASE.service: Deactivated successfully" || fail "the unit did not end with Result=success"
    jhas 'Failed with result' && fail "the unit failed"
    pid1_ignored_nothing ;;
  worker_quadlet_reload)
    # conmon gets no SIGHUP from `kill $MAINPID` (it is conmon): podman kill sends it into the
    # container; RELOADING=1 (with MONOTONIC_USEC) and READY=1 come back through conmon.
    EXE=$WORKER run --quadlet --debug-pid1 -p 'ExecReload=/usr/bin/podman kill --signal HUP systemd-%N' \
        -w active -w do:reload -w prop:ActiveState=reloading \
        -w 'prop:StatusText=configuration reloaded' -w prop:ActiveState=active -- ||
      fail "systemctl reload of the Quadlet unit did not go reloading -> active"
    expect ActiveState active
    jhas 'Got notification message from PID [0-9]+: RELOADING=1, MONOTONIC_USEC=[0-9]+, STATUS=reloading \(SIGHUP\)' ||
      fail "RELOADING=1 did not arrive through conmon"
    jhas 'Reloaded sdn-' || fail "no 'Reloaded' line in the journal"
    pid1_ignored_nothing ;;
  worker_quadlet_watchdog)
    # podman keeps systemd's WATCHDOG_USEC to itself: the .container passes it on (Environment=);
    # conmon relays WATCHDOG=1.
    EXE=$WORKER TIMEOUT=60 run --quadlet --debug-pid1 -p WatchdogSec=2 \
        --container-property Environment=WATCHDOG_USEC=2000000 \
        -w active -w sleep:6 -w prop:ActiveState=active -- ||
      fail "a Quadlet unit with WatchdogSec=2 did not stay active for 6 s"
    expect WatchdogUSec 2s
    expect Result success
    expect NRestarts 0
    n=$(journal | grep -Ec 'Got notification message from PID [0-9]+: (.*, )?WATCHDOG=1' || true)
    echo "WATCHDOG=1 arrived $n times in about 6 s"
    (( n >= 4 )) || fail "only $n WATCHDOG=1 arrived through conmon in 6 s"
    pid1_ignored_nothing ;;
  worker_quadlet_watchdog_not_passed)
    # The control for the case above: without Environment=WATCHDOG_USEC the worker never hears of
    # the watchdog, sends no WATCHDOG=1, and the unit fails after 2 s.
    EXE=$WORKER run --quadlet -p WatchdogSec=2 -w active -w failed -- ||
      fail "the Quadlet unit without WATCHDOG_USEC was not failed by its watchdog"
    expect Result watchdog ;;
  worker_quadlet_slow_start_not_extended)
    # What conmon does not relay: the same 6 s start that worker_slow_start_extended survives
    # under PID 1 with EXTEND_TIMEOUT_USEC times out here, its STATUS lines arriving meanwhile.
    EXE=$WORKER run --quadlet --debug-pid1 -p TimeoutStartSec=2 -w failed -- --start-delay 6000 ||
      fail "the slow start did not fail: conmon may relay EXTEND_TIMEOUT_USEC now (update README)"
    expect Result timeout
    jhas 'Got notification message from PID [0-9]+: STATUS=loading: step 1' ||
      fail "the progress lines did not arrive through conmon"
    jhas 'EXTEND_TIMEOUT_USEC' && fail "EXTEND_TIMEOUT_USEC arrived"
    true ;;
  # Debian 12's podman 4.3 (`podman run -d --sdnotify=container` in the unit, as `podman generate
  # systemd --new` writes it): its conmon 2.1.6 turns a datagram holding READY=1 into just
  # READY=1, one holding WATCHDOG=1 into just WATCHDOG=1, and drops every other.
  worker_podman_run)
    EXE=$WORKER run --podman-run --debug-pid1 -w active -w sleep:2 -w do:status -w do:stop \
        -w inactive -- || fail "the podman run unit did not go active -> inactive"
    mid=$(sed -n '/^=== systemctl status .*(during the waits)/,/^did: status/p' "$OUT")
    grep -q 'Active: active (running)' <<<"$mid" || fail "systemctl status did not say active (running)"
    grep -Eq 'Main PID: [0-9]+ \(conmon\)' <<<"$mid" || fail "the unit's main process is not conmon"
    grep -q 'Status:' <<<"$mid" && fail "a STATUS arrived: conmon relays it now (update README)"
    conmon=$(journal | sed -n 's/.*Got notification message from PID [0-9]* (MAINPID=\([0-9]*\)).*/\1/p' | head -1)
    [[ -n $conmon ]] || fail "podman did not hand the unit over to conmon (no MAINPID=)"
    jhas "Got notification message from PID $conmon \(READY=1\)" || fail "READY=1 did not arrive through conmon"
    jhas 'STOPPING=1' && fail "STOPPING=1 arrived: conmon relays it now (update README)"
    jhas 'shut down cleanly' || fail "the worker's own SIGTERM handling did not run"
    jhas "sdn-$CASE.service: Deactivated successfully" || fail "the unit did not end with Result=success"
    jhas 'Failed with result' && fail "the unit failed"
    pid1_ignored_nothing ;;
  worker_podman_run_watchdog)
    EXE=$WORKER TIMEOUT=60 run --podman-run --debug-pid1 -p WatchdogSec=2 \
        --container-property '--env WATCHDOG_USEC=2000000' \
        -w active -w sleep:6 -w prop:ActiveState=active -- ||
      fail "a podman run unit with WatchdogSec=2 did not stay active for 6 s"
    expect Result success
    n=$(journal | grep -Ec 'Got notification message from PID [0-9]+ \(WATCHDOG=1\)' || true)
    echo "WATCHDOG=1 arrived $n times in about 6 s"
    (( n >= 4 )) || fail "only $n WATCHDOG=1 arrived through conmon in 6 s"
    pid1_ignored_nothing ;;
  # The examples with the unit files they ship (examples/*.service).
  example_request_worker)
    EXE=$EXAMPLES/request_worker run --unit-file "$here/../../examples/request_worker.service" \
        --stop -w active -w 'status:^served [0-9]+ requests, queue depth [0-9]$' -- ||
      fail "request_worker.service did not run as shipped"
    jhas 'stopped after' || fail "the worker's own SIGTERM handling did not run"
    jhas 'Deactivated successfully' || fail "the unit did not stop cleanly"
    pid1_ignored_nothing ;;
  example_batch_job)
    EXE=$EXAMPLES/batch_job run --unit-file "$here/../../examples/batch_job.service" \
        -w active -w 'status:^processing: [0-9]+% \([0-9]+/200 items\)$' -w inactive -- ||
      fail "batch_job.service did not show its progress as a percentage"
    jhas 'batch complete: 200 items' || fail "the batch did not complete"
    jhas 'Deactivated successfully' || fail "the unit did not end with success"
    pid1_ignored_nothing ;;
  example_worker_service)
    EXE=$EXAMPLES/worker_service run --unit-file "$here/../../examples/worker_service.service" \
        -w active -w do:reload -w 'prop:StatusText=configuration reloaded' \
        -w prop:ActiveState=active -w sleep:6 -w prop:ActiveState=active -- ||
      fail "worker_service.service did not reload or did not stay up under its watchdog"
    expect WatchdogUSec 5s
    expect NRestarts 0
    pid1_ignored_nothing ;;
  example_status_summary)
    # The status summary on 257 (examples/status_summary.cpp): the newest line, then the
    # counts of the last 5 minutes and the last error's time and text. Its second error holds
    # the status for 30 s; then the newest line shows, with the summary composed at its record.
    summary='handled request 40 · 2 errors, 3 warnings in 5 min, last error at [0-9]{2}:[0-9]{2}:[0-9]{2}: db1 unreachable'
    EXE=$EXAMPLES/status_summary TIMEOUT=90 run -w active -w "status:^$summary\$" -- 45 ||
      fail "StatusText never became the newest line with its summary"
    sed -n '/^=== systemctl status/,/^=== journal/p' "$OUT" | grep -E "Status: \"$summary\"" >/dev/null ||
      fail "systemctl status did not show the summary"
    pid1_ignored_nothing ;;
  app_handler_before_stops_cleanly|app_handler_after_stops_cleanly|app_handler_chained_stops_cleanly)
    # The application's SIGTERM handler set before the service, after it (replacing ours), or
    # after it and calling the one it replaced: each stops cleanly, STOPPING=1 once, the
    # application's own shutdown runs. After the set-up, the replaced handler is said once.
    order=${CASE#app_handler_}; order=${order%%_*}
    EXE=$SERVICE_PROBE run --debug-pid1 --stop -w active -w sleep:1.5 -- --handlers "$order" ||
      fail "the service did not start"
    n=$(journal | grep -cE 'Got notification message from PID [0-9]+(: | \()STOPPING=1' || true)
    [[ $n == 1 ]] || fail "PID 1 got STOPPING=1 $n times, not once"
    jhas 'shutting down cleanly' || fail "the application's own shutdown did not run"
    jhas 'Deactivated successfully' || fail "the unit did not end with Result=success"
    jhas 'Failed with result|timed out' && fail "the unit failed or timed out"
    if [[ $order == before ]]; then
      jhas 'handler was replaced' && fail "a handler set before the service was reported"
    else
      [[ $(journal | grep -c 'the SIGTERM handler was replaced after the lifecycle' || true) == 1 ]] ||
        fail "the replaced SIGTERM handler was not said once"
    fi
    pid1_ignored_nothing ;;
  app_reload_failed_returns_with_the_error|app_notify_reload_failed_returns_with_the_error)
    # A reload that fails (the app logs an error, keeps its configuration): systemctl reload
    # returns within a few seconds, the unit active (running) with the error as its status.
    type=(-p 'ExecReload=/bin/kill -HUP $MAINPID')
    [[ $CASE == app_notify_* ]] && type=(-p Type=notify-reload)
    EXE=$SERVICE_PROBE run "${type[@]}" -w active -w do:reload-blocking -w active -- \
        --reload fail || fail "the service did not start"
    took=$(sed -n 's/^systemctl reload returned 0 after \([0-9.]*\) s$/\1/p' "$OUT")
    [[ -n $took ]] || fail "systemctl reload did not return 0"
    awk -v t="$took" 'BEGIN{exit !(t < 5)}' || fail "systemctl reload took $took s"
    expect ActiveState active
    expect SubState running
    expect StatusText 'reload failed: /etc/probe.conf line 3: unknown key'
    pid1_ignored_nothing ;;
  app_reload_silent_ends_after_reload_timeout)
    # A reload that never reports (no success line, no error): ended after reload_timeout (2 s
    # here) with a status and a warning that say so; without it, the job would hang.
    EXE=$SERVICE_PROBE run -p 'ExecReload=/bin/kill -HUP $MAINPID' -w active \
        -w do:reload-blocking -w active -- --reload silent --reload-timeout 2000 ||
      fail "the service did not start"
    took=$(sed -n 's/^systemctl reload returned 0 after \([0-9.]*\) s$/\1/p' "$OUT")
    [[ -n $took ]] || fail "systemctl reload did not return 0"
    awk -v t="$took" 'BEGIN{exit !(t >= 1.9 && t < 6)}' || fail "systemctl reload took $took s"
    expect ActiveState active
    expect StatusText 'reload not confirmed within 2 s (see the log)'
    jhas 'a reload was not confirmed within reload_timeout' || fail "no warning in the journal" ;;
  app_production_level_said_at_warning)
    # spdlog::set_level(warn) after the set-up drops the "listening on" line: READY never
    # comes. The operator reads why with journalctl -p warning (the line carries <4>).
    EXE=$SERVICE_PROBE run -p TimeoutStartSec=8 -w sleep:2.5 \
        -w "logp:warning:the default logger '' at warning drops the info records that ready_when needs" \
        -- --level warn || fail "the warning did not reach journalctl -p warning"
    expect ActiveState activating ;;
  app_job_*_keeps_the_last_line)
    # A job (RemainAfterExit=yes) that logs its last lines within min_interval and leaves:
    # systemctl shows the last line, however it left.
    how=${CASE#app_job_}; how=${how%_keeps_the_last_line}
    case $how in shutdown__exit) how=shutdown-_exit ;; shutdown_exit) how=shutdown-exit ;; esac
    EXE=$SERVICE_PROBE run -p RemainAfterExit=yes -w active -w sleep:1 -- --job 3 --leave "$how" ||
      fail "the job did not become active"
    expect SubState exited
    expect StatusText 'step 3 (last)'
    expect Result success
    pid1_ignored_nothing ;;
  slow_start_without_extend_times_out)
    # The control for the case above: the same slow start without EXTEND_TIMEOUT_USEC fails.
    run -p TimeoutStartSec=2 -w failed -- sleep:5000 ready forever ||
      fail "a 5 s start with TimeoutStartSec=2 and no extension did not time out"
    expect Result timeout ;;
  *) fail "unknown case $CASE" ;;
esac
echo "PASS: $CASE"
