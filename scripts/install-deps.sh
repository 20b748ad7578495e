#!/usr/bin/env bash
# Copyright (c) 2026 spdlog_sdnotify authors.
# Distributed under the MIT License (http://opensource.org/licenses/MIT)
#
# Installs what building and testing spdlog_sdnotify needs, from Debian 12 (or 13) packages.
# The system tests also need debootstrap and systemd-container, packaging.spdlog_fetchcontent git.
# libsystemd-dev is only for the benchmark's comparison with sd_notify(): the library never links it.
set -euo pipefail
pkgs=(g++ cmake make pkg-config libspdlog-dev libfmt-dev libpcre2-dev catch2 libbenchmark-dev libsystemd-dev
      clang clang-tidy clang-format libclang-rt-14-dev
      python3 debootstrap systemd-container git)
missing=()
for p in "${pkgs[@]}"; do
  [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
sudo=; [[ $(id -u) == 0 ]] || sudo=sudo
echo "installing: ${missing[*]}"
$sudo apt-get update -qq
# --no-install-recommends: systemd-container would otherwise pull libnss-mymachines, which edits
# the host's nsswitch.conf.
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
