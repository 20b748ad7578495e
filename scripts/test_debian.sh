#!/usr/bin/env bash
# Copyright (c) 2026 spdlog_sdnotify authors.
# Distributed under the MIT License (http://opensource.org/licenses/MIT)
#
# Builds and unit-tests this tree on another Debian release from a Debian 12 host: a cached
# debootstrap root filesystem, the source bound read-only into it with systemd-nspawn (not
# booted: the system tests, which need systemd as PID 1, are not run here), a fresh configure
# with warnings as errors, a build and `ctest -R 'unit|packaging.std_format'` (the unit tests, and
# a consumer of spdlog's header-only target with std::format, which needs g++ >= 13).
#
#   sudo SDN_SUITE=trixie bash scripts/test_debian.sh     # Debian 13 (scripts/test_debian13.sh)
#   sudo SDN_SUITE=testing bash scripts/test_debian.sh    # Debian testing
#   sudo SDN_SUITE=testing bash scripts/test_debian.sh -R 'unit|packaging'  # other ctest arguments
#
# The first run of a suite builds its root filesystem (debootstrap from this machine's apt
# source, about 1-2 minutes) under /var/tmp/spdlog_sdnotify-<suite>-build; later runs reuse it
# and never change it (the container's root is read-only; the build directory is bound from the
# host). It is rebuilt when the recipe (suite and package list) changes. Exit status: ctest's (0
# when every test passed), or 2 when the environment is not usable.
#
# Environment: SDN_SUITE (trixie, testing, ...; default trixie), SDN_DEBIAN_BASE (cache folder),
# SDN_DEBIAN_MIRROR (Debian mirror; default: the first apt source of this machine, as
# tests/system/harness.sh does), SDN_DEBIAN_JOBS. For trixie the older SDN_TRIXIE_BASE,
# SDN_TRIXIE_MIRROR and SDN_TRIXIE_JOBS are honoured too.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
SUITE=${SDN_SUITE:-trixie}
[[ $SUITE =~ ^[a-z][a-z0-9-]*$ ]] || { echo "SDN_SUITE: not a suite name: $SUITE" >&2; exit 2; }
case $SUITE in
trixie)  # the names of the first version of this script (one suite only) still work
  TAG=debian13
  BASE=${SDN_DEBIAN_BASE:-${SDN_TRIXIE_BASE:-/var/tmp/spdlog_sdnotify-trixie-build}}
  MIRROR=${SDN_DEBIAN_MIRROR:-${SDN_TRIXIE_MIRROR:-}}
  JOBS=${SDN_DEBIAN_JOBS:-${SDN_TRIXIE_JOBS:-$(nproc)}}
  MACHINE=sdn-debian13-build ;;
*)
  TAG=debian-$SUITE
  BASE=${SDN_DEBIAN_BASE:-/var/tmp/spdlog_sdnotify-$SUITE-build}
  MIRROR=${SDN_DEBIAN_MIRROR:-}
  JOBS=${SDN_DEBIAN_JOBS:-$(nproc)}
  MACHINE=sdn-$SUITE-build ;;
esac
ROOTFS=$BASE/rootfs
BUILD=$BASE/build
PACKAGES=g++,cmake,make,pkg-config,libspdlog-dev,libfmt-dev,catch2,libpcre2-dev,ca-certificates
# The cache is rebuilt when this changes: the suite, the packages, and the leading number (raise
# it when something else about the root filesystem changes).
RECIPE="2 $SUITE $PACKAGES"
CTEST_ARGS=("$@")
[[ ${#CTEST_ARGS[@]} -gt 0 ]] || CTEST_ARGS=(-R 'unit|packaging\.std_format')

log() { printf '[%s] %s\n' "$TAG" "$*" >&2; }
die() { printf '[%s] error: %s\n' "$TAG" "$*" >&2; exit 2; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}'; }

# Debian mirror: the machine's own apt source (same rule as tests/system/harness.sh).
apt_mirror() {
  local m
  m=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -1)
  [[ -n $m ]] || m=$(grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' | grep -v security | head -1)
  echo "$m"
}

[[ $(id -u) == 0 ]] || die "must run as root (debootstrap, systemd-nspawn)"
t_start=$(now)
if ! command -v debootstrap >/dev/null || ! command -v systemd-nspawn >/dev/null; then
  log "installing debootstrap systemd-container (apt)"
  apt-get update -qq
  # --no-install-recommends: libnss-mymachines would edit the host's nsswitch.conf.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    debootstrap systemd-container >/dev/null
fi

mkdir -p "$BASE"
# One run at a time: they share the root filesystem and the build directory.
exec 9>"$BASE/lock"
flock -n 9 || { log "waiting for another run to finish"; flock 9; }

if [[ -f $ROOTFS/.sdn-recipe && $(cat "$ROOTFS/.sdn-recipe") == "$RECIPE" ]]; then
  log "root filesystem cached at $ROOTFS"
else
  [[ -n $MIRROR ]] || MIRROR=$(apt_mirror)
  [[ -n $MIRROR ]] || die "no Debian mirror found in /etc/apt (set SDN_DEBIAN_MIRROR)"
  t0=$(now)
  rm -rf "$ROOTFS.new"
  log "debootstrap $SUITE (minbase + $PACKAGES) from $MIRROR into $ROOTFS"
  if ! debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$ROOTFS.new" "$MIRROR" \
      >"$BASE/debootstrap.log" 2>&1; then
    tail -20 "$BASE/debootstrap.log" >&2
    die "debootstrap failed (log: $BASE/debootstrap.log)"
  fi
  rm -rf "$ROOTFS.new/var/cache/apt/archives/"*.deb "$ROOTFS.new/var/lib/apt/lists/"*_Packages
  mkdir -p "$ROOTFS.new/src" "$ROOTFS.new/build"  # mount points (the root is read-only later)
  echo "$RECIPE" >"$ROOTFS.new/.sdn-recipe"
  rm -rf "$ROOTFS"
  mv "$ROOTFS.new" "$ROOTFS"
  log "root filesystem ready in $(since "$t0") s ($(du -sh "$ROOTFS" | cut -f1))"
fi

rm -rf "$BUILD"
mkdir -p "$BUILD"
printf -v ctest_args '%q ' "${CTEST_ARGS[@]}"
# Inside the container: versions, a fresh configure with warnings as errors, build, ctest.
inner="set -eu
echo \"[$TAG] \$(. /etc/os-release && echo \"\$PRETTY_NAME\"): \$(g++ --version | head -1), \$(cmake --version | head -1)\"
dpkg-query -W -f='[$TAG] \${Package} \${Version}\n' libspdlog-dev libfmt-dev catch2 libpcre2-dev
cmake -S /src -B /build -DSPDLOG_SDNOTIFY_BUILD_WARNINGS=ON -DSPDLOG_SDNOTIFY_SYSTEM_TESTS=OFF >/build/configure.log 2>&1 || { cat /build/configure.log; exit 1; }
cmake --build /build -j$JOBS
cd /build
ctest --output-on-failure --no-tests=error -j2 $ctest_args"
# nspawn leaves this behind when /run is not a tmpfs, refuses to remove it itself and says so
# ("Attempted to remove disk file system ..."): we remove it, and drop that line.
cleanup() { rm -rf "/run/systemd/nspawn/propagate/$MACHINE"; }
cleanup
trap cleanup EXIT
t0=$(now)
log "configure, build and ctest ${CTEST_ARGS[*]} in systemd-nspawn (source $root read-only)"
rc=0
systemd-nspawn --quiet --register=no --keep-unit --read-only --private-network --console=pipe \
  --resolv-conf=off --timezone=off --link-journal=no --settings=no \
  -D "$ROOTFS" -M "$MACHINE" --bind-ro="$root:/src" --bind="$BUILD:/build" --tmpfs=/tmp \
  --setenv=LANG=C.UTF-8 --setenv=HOME=/tmp \
  /bin/bash -c "$inner" 2> >(grep -v --line-buffered '^Attempted to remove disk file system' >&2) ||
  rc=$?
log "build and tests: $(since "$t0") s; whole run: $(since "$t_start") s; exit status $rc"
exit "$rc"
