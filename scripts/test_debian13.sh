#!/usr/bin/env bash
# Copyright (c) 2026 spdlog_sdnotify authors.
# Distributed under the MIT License (http://opensource.org/licenses/MIT)
#
# Builds and tests this tree on Debian 13 "trixie" (g++ 14, cmake 3.31, spdlog 1.15, fmt 10,
# Catch2 3) from a Debian 12 host, in systemd-nspawn over a cached debootstrap root
# (/var/tmp/spdlog_sdnotify-trixie-build): scripts/test_debian.sh with SDN_SUITE=trixie, which
# says more.
#
#   sudo bash scripts/test_debian13.sh          # ctest -R 'unit|packaging\.std_format'
#   sudo bash scripts/test_debian13.sh -R 'unit|packaging'   # other ctest arguments
set -euo pipefail
SDN_SUITE=trixie exec bash "$(dirname "$0")/test_debian.sh" "$@"
