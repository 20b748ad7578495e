#!/usr/bin/env bash
# Copyright (c) 2026 spdlog_sdnotify authors.
# Distributed under the MIT License (http://opensource.org/licenses/MIT)
#
# A negative control: runs one test case of the negative-control build (one protection switched
# off through SPDLOG_SDNOTIFY_CONTROL_OFF) and passes only if the case fails or hangs.
#   expect_failure.sh <control test binary> <test case>
set -uo pipefail
binary=$1 case_name=$2
[[ -n ${SPDLOG_SDNOTIFY_CONTROL_OFF:-} ]] || { echo "SPDLOG_SDNOTIFY_CONTROL_OFF is not set"; exit 2; }
# The case must exist: a renamed case would otherwise "fail" by running nothing.
names=$("$binary" --list-test-names-only 2>/dev/null)
grep -qxF -- "$case_name" <<<"$names" ||
  { echo "no test case named '$case_name'"; exit 2; }
timeout -k 5 60 "$binary" "$case_name"
rc=$?
case $rc in
  0) echo "CONTROL FAILED: '$case_name' passed with protection '$SPDLOG_SDNOTIFY_CONTROL_OFF' off"
     exit 1 ;;
  124|137) echo "control ok: '$case_name' hung without '$SPDLOG_SDNOTIFY_CONTROL_OFF' (killed)" ;;
  *) echo "control ok: '$case_name' failed (exit $rc) without '$SPDLOG_SDNOTIFY_CONTROL_OFF'" ;;
esac
