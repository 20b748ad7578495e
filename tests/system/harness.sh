#!/usr/bin/env bash
# harness.sh: spdlog_sdnotify's system-test harness, adapted from the team's harness.sh.
# Runs an executable as a Type=notify service under a REAL systemd
# (Debian bookworm's systemd 252 or trixie's 257, booted as PID 1 of a
# systemd-nspawn container over a cached debootstrap rootfs), wait for a condition, then print
# `systemctl show`, `systemctl status` and the journal for it.
#
# The host doesn't need systemd as PID 1. What it needs: root, debootstrap,
# systemd-container (both installed by `setup` from Debian's archive), and
# overlayfs. The container gets --private-network (loopback only), and its root is
# --volatile=overlay (a tmpfs layer over the cached rootfs), so a run never
# changes the cache.
#
#   harness.sh setup                  # once: packages + rootfs (~1 min), idempotent
#   harness.sh run [OPTIONS] EXE [ARGS...]
#   harness.sh up | down | status | exec CMD... | clean
#
# See tests/system/README.md. Exit codes: 0 ok / all waits met, 1 a wait
# was not met (timeout or unit died), 2 usage or environment error.
set -euo pipefail

BASE=${RSD_BASE:-/var/tmp/spdlog_sdnotify-systemd}
# Flavour of the rootfs: plain (systemd alone) or podman (plus Debian's podman, conmon and crun,
# for Quadlet units, run --quadlet, or units that call podman run, run --podman-run; its own
# rootfs, machine and nspawn options).
FLAVOUR=${RSD_FLAVOUR:-plain}
# Debian suite of the container: bookworm = systemd 252, trixie = systemd 257.
if [[ $FLAVOUR == podman ]]; then SUITE=${RSD_SUITE:-trixie}; else SUITE=${RSD_SUITE:-bookworm}; fi
[[ $SUITE =~ ^[a-z]+$ ]] || { echo "bad RSD_SUITE" >&2; exit 2; }
case $FLAVOUR in
  plain)
    if [[ $SUITE == bookworm ]]; then ROOTFS=$BASE/rootfs; MACHINE=${RSD_MACHINE:-sdn}
    else ROOTFS=$BASE/rootfs-$SUITE; MACHINE=${RSD_MACHINE:-sdn-$SUITE}; fi ;;
  podman)
    ROOTFS=$BASE/rootfs-$SUITE-podman
    if [[ $SUITE == trixie ]]; then MACHINE=${RSD_MACHINE:-sdn-podman}
    else MACHINE=${RSD_MACHINE:-sdn-podman-$SUITE}; fi ;;
  *) echo "bad RSD_FLAVOUR (plain or podman)" >&2; exit 2 ;;
esac
[[ $MACHINE =~ ^[A-Za-z0-9][A-Za-z0-9_-]{0,40}$ ]] || { echo "bad RSD_MACHINE" >&2; exit 2; }
STATE=$BASE/state/$MACHINE
CGNAME=spdlog-sdnotify-$MACHINE
# Debian mirror: the machine's own apt source unless RSD_MIRROR says otherwise.
apt_mirror() {
  local m
  m=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -1)
  [[ -n $m ]] || m=$(grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' | grep -v security | head -1)
  echo "$m"
}
MIRROR=${RSD_MIRROR:-$(apt_mirror)}
# cgroup layout inside the container: unified (cgroup v2 only, as on a stock
# Debian 12/13 host; systemd >= 256 refuses to boot on v1) or hybrid.
CGROUP_MODE=${RSD_CGROUP:-unified}
SETUP_VERSION=3   # bump when the rootfs recipe changes
INCLUDE=systemd,systemd-sysv,dbus,procps
# podman in nspawn: all capabilities, the mount/keyring/bpf system calls crun uses, /dev/fuse,
# and a containers.conf without sysctls or a pids limit (the container's /proc/sys is read-only).
NSPAWN_EXTRA=()
if [[ $FLAVOUR == podman ]]; then
  SETUP_VERSION=3+podman2
  INCLUDE+=,podman,conmon,crun
  # bookworm's containers-common needs the virtual container-network-stack (debootstrap
  # resolves no virtual packages): netavark provides it.
  [[ $SUITE == bookworm ]] && INCLUDE+=,netavark
  NSPAWN_EXTRA=(--capability=all '--system-call-filter=@keyring @mount bpf')
  [[ -c /dev/fuse ]] && NSPAWN_EXTRA+=(--bind=/dev/fuse)
fi
MASK_UNITS=(apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer
            systemd-tmpfiles-clean.timer console-getty.service getty@.service
            e2scrub_reap.service)

log() { printf '[harness] %s\n' "$*" >&2; }
die() { printf '[harness] error: %s\n' "$*" >&2; exit 2; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.2f", b-a}'; }

usage() {
  cat <<'EOF'
usage:
  harness.sh setup               install debootstrap+systemd-container, build the cached rootfs
  harness.sh up [--bind-ro DIR]  boot the container (idempotent)
  harness.sh run [OPTIONS] EXE [ARGS...]
      -u, --unit NAME        unit name without .service (default: rsd-test)
      -p, --property K=V     extra [Service] line, repeatable (-p WatchdogSec=2 -p NotifyAccess=all);
                             Type=notify is written first, so -p Type=simple overrides it
      --unit-property K=V    extra [Unit] line, repeatable
      -f, --file SRC         also copy SRC next to the executable (repeatable)
      -w, --wait COND        wait for COND; repeat for a sequence. COND is one of
                               settled (default): start job over (active, failed or inactive)
                               active | running | inactive | failed
                               status:ERE      StatusText matches the extended regex
                               prop:NAME=VALUE a `systemctl show` property equals VALUE
                               log:ERE         journal for the unit (incl. PID 1's lines) matches
                               sleep:SEC       just wait
                               logp:PRIO:ERE   journal lines at PRIO or higher (journalctl -p) match
                               do:reload|do:stop|do:kill-SIG  act on the unit (no waiting),
                                               then go on with the next condition
                               do:status       print `systemctl status` now (what an operator sees)
                               do:reload-blocking  `systemctl reload`, waited for, its time printed
      -t, --timeout SEC      budget for all waits together (default 30)
      --stop                 after the waits, `systemctl stop` the unit and wait for it to go
      --show PROPS           comma list for `systemctl show -p` (default: a notify-centric set)
      --debug-pid1           raise PID 1's log level to debug during the run (shows NotifyAccess
                             rejections etc.)
      --user                 run the unit under the user manager of a user made for it
                             (user@UID.service, `systemctl --user`), not under PID 1
      --keep                 leave the container up afterwards (a later run skips ~1 s boot + ~0.5 s poweroff)
      --bind-ro DIR          when this run boots the container: bind DIR read-only, same path
      --unit-file FILE       use this unit file (ExecStart='s program becomes the staged EXE;
                             -p lines are added to its [Service] section)
      --quadlet              (RSD_FLAVOUR=podman) run EXE in a podman container through a Quadlet
                             UNIT.container (Notify=true, Network=none, Rootfs= a folder holding
                             EXE and the host's libraries); systemd's generator makes UNIT.service;
                             -p lines go to its [Service], --unit-property to [Unit],
                             --container-property K=V to [Container] (podman >= 4.4: not bookworm)
      --podman-run           (RSD_FLAVOUR=podman) the same container from a unit that calls
                             `podman run -d --sdnotify=container` itself, as podman 4.3's
                             `podman generate systemd --new` writes it; --container-property
                             ARG adds a podman run argument
  harness.sh exec CMD...         run CMD inside the container (nsenter)
  harness.sh down                power off the container, remove its cgroups and leftovers
  harness.sh status              say whether the container is up
  harness.sh clean               down, then delete the cached rootfs
env: RSD_SUITE   bookworm (default, systemd 252) or trixie (systemd 257); one cached rootfs each
     RSD_CGROUP  unified (default: cgroup v2 only, like a stock host) or hybrid (252 only)
     RSD_FLAVOUR plain (default) or podman (podman/conmon/crun in their own rootfs, suite
                 trixie by default, machine sdn-podman or sdn-podman-SUITE, booted with all
                 capabilities, @mount @keyring bpf, /dev/fuse)
     RSD_MACHINE container name (default sdn, or sdn-SUITE); one container per name
     RSD_BASE    cache/state folder (default /var/tmp/spdlog_sdnotify-systemd)
     RSD_MIRROR  Debian mirror for debootstrap (default: the first apt source of this machine)
EOF
}

[[ $(id -u) == 0 ]] || die "must run as root"

# ---------------------------------------------------------------- cgroups
# systemd-nspawn (with --keep-unit, as needed without a host systemd) puts
# itself in <current cgroup>/supervisor and the container in
# <current cgroup>/payload. We start it from our own cgroup in each named
# hierarchy, so the container is isolated from the caller's and can be removed.
cg_roots() {
  local d
  if [[ $(stat -fc %T /sys/fs/cgroup) == cgroup2fs ]]; then echo /sys/fs/cgroup; return; fi
  for d in /sys/fs/cgroup/systemd /sys/fs/cgroup/unified; do
    [[ -e $d/cgroup.procs ]] && echo "$d"
  done
}
cg_make() { local r; for r in $(cg_roots); do mkdir -p "$r/$CGNAME"; done; }
cg_enter() { local r; for r in $(cg_roots); do echo "$1" > "$r/$CGNAME/cgroup.procs"; done; }
cg_pids() { local r; for r in $(cg_roots); do [[ -d $r/$CGNAME ]] && find "$r/$CGNAME" -name cgroup.procs -exec cat {} + ; done 2>/dev/null | sort -un; }
cg_remove() {
  local r pid tries=0
  # Only processes in OUR cgroup are ended, by PID: they are the container we started.
  while [[ -n $(cg_pids) && $tries -lt 50 ]]; do
    for pid in $(cg_pids); do kill -KILL "$pid" 2>/dev/null || true; done
    sleep 0.1; tries=$((tries+1))
  done
  for r in $(cg_roots); do
    [[ -d $r/$CGNAME ]] && find "$r/$CGNAME" -depth -type d -exec rmdir {} \; 2>/dev/null || true
    [[ -d $r/$CGNAME ]] && log "warning: could not remove $r/$CGNAME"
  done
  return 0
}

# ---------------------------------------------------------------- container
nspawn_pid() { [[ -f $STATE/nspawn.pid ]] && cat "$STATE/nspawn.pid"; }
alive() { local p; p=$(nspawn_pid) || return 1; [[ -n $p ]] && kill -0 "$p" 2>/dev/null &&
          grep -q systemd-nspawn "/proc/$p/cmdline" 2>/dev/null; }
leader() { local p; p=$(nspawn_pid); awk '{print $1}' "/proc/$p/task/$p/children" 2>/dev/null; }
IN() {  # run a command inside the container, with a clean environment
  local l; l=$(leader); [[ -n $l ]] || die "container not running"
  nsenter -t "$l" -a -- /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
    SYSTEMD_COLORS=0 SYSTEMD_PAGER=cat SYSTEMD_LESS= TERM=dumb "$@"
}

# systemctl for the unit under test: PID 1's, or with --user the test user's manager.
USER_MODE=0 MANAGER_PID=1
TEST_USER=sdnuser TEST_UID=1500
SC() {
  if [[ $USER_MODE == 1 ]]; then
    IN runuser -u "$TEST_USER" -- env XDG_RUNTIME_DIR="/run/user/$TEST_UID" systemctl --user "$@"
  else
    IN systemctl "$@"
  fi
}
# The test user and its manager (user@UID.service, as lingering or a login starts it).
user_manager_up() {
  IN id "$TEST_USER" >/dev/null 2>&1 ||
    IN useradd -m -u "$TEST_UID" -s /bin/sh "$TEST_USER" || die "useradd failed"
  # The minimal root has no pam_systemd (libpam-systemd), which would set XDG_RUNTIME_DIR.
  local c; c="/proc/$(leader)/root"
  if [[ ! -f $c/run/systemd/system/user@$TEST_UID.service.d/runtime-dir.conf ]]; then
    mkdir -p "$c/run/systemd/system/user@$TEST_UID.service.d"
    printf '[Service]\nEnvironment=XDG_RUNTIME_DIR=/run/user/%s\n' "$TEST_UID" \
      > "$c/run/systemd/system/user@$TEST_UID.service.d/runtime-dir.conf"
    IN systemctl daemon-reload
  fi
  IN systemctl start "user@$TEST_UID.service" || die "user@$TEST_UID.service did not start"
  local i
  for i in $(seq 50); do
    SC is-system-running >/dev/null 2>&1 && return 0
    [[ $(SC is-system-running 2>/dev/null) == degraded ]] && return 0
    sleep 0.1
  done
  die "the user manager of $TEST_USER did not come up"
}
user_manager_pid() { IN systemctl show -p MainPID --value "user@$TEST_UID.service"; }

cmd_setup() {
  local t0; t0=$(now)
  if ! command -v debootstrap >/dev/null || ! command -v systemd-nspawn >/dev/null; then
    log "installing debootstrap systemd-container (apt)"
    apt-get update -qq
    # --no-install-recommends: avoids libnss-mymachines editing the host's nsswitch.conf.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      debootstrap systemd-container >/dev/null
  fi
  grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || true
  grep -qw overlay /proc/filesystems || die "kernel has no overlayfs (needed for --volatile=overlay)"
  if [[ -f $ROOTFS/.rsd-ready && $(cat "$ROOTFS/.rsd-ready") == "$SETUP_VERSION" ]]; then
    log "rootfs cached at $ROOTFS"; return 0
  fi
  alive && cmd_down
  mkdir -p "$BASE"
  rm -rf "$ROOTFS.new"
  log "debootstrap $SUITE (minbase + $INCLUDE) into $ROOTFS (about 80 s)"
  if ! debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$ROOTFS.new" "$MIRROR" \
        > "$ROOTFS.debootstrap.log" 2>&1; then
    tail -20 "$ROOTFS.debootstrap.log" >&2; die "debootstrap failed (log: $ROOTFS.debootstrap.log)"
  fi
  systemctl --root="$ROOTFS.new" mask "${MASK_UNITS[@]}" >/dev/null 2>&1
  echo rsd > "$ROOTFS.new/etc/hostname"
  if [[ $FLAVOUR == podman ]]; then
    mkdir -p "$ROOTFS.new/etc/containers"
    cat > "$ROOTFS.new/etc/containers/containers.conf" <<'EOF'
# written by harness.sh: podman inside systemd-nspawn
[containers]
default_sysctls = []
pids_limit = 0
EOF
    # The container's root is an overlayfs (--volatile=overlay): no overlay storage on top of it.
    printf '[storage]\ndriver = "vfs"\nrunroot = "/run/containers/storage"\ngraphroot = "/var/lib/containers/storage"\n' \
      > "$ROOTFS.new/etc/containers/storage.conf"
  fi
  rm -rf "$ROOTFS.new/var/cache/apt/archives/"*.deb "$ROOTFS.new/var/lib/apt/lists/"*_Packages
  echo "$SETUP_VERSION" > "$ROOTFS.new/.rsd-ready"
  rm -rf "$ROOTFS"; mv "$ROOTFS.new" "$ROOTFS"
  log "setup done in $(since "$t0") s ($(du -sh "$ROOTFS" | cut -f1))"
}

BIND_RO=()
cmd_up() {
  local t0 np l st i
  t0=$(now)
  [[ -f $ROOTFS/.rsd-ready ]] || cmd_setup
  if alive; then return 0; fi
  cleanup_leftovers
  mkdir -p "$STATE"
  cg_make
  local args=(-D "$ROOTFS" -M "$MACHINE" --boot --register=no --keep-unit
              --console=read-only --private-network --volatile=overlay
              --link-journal=no --resolv-conf=off --timezone=off --settings=no)
  for i in "${BIND_RO[@]}"; do args+=("--bind-ro=$i"); done
  args+=("${NSPAWN_EXTRA[@]}")
  # The subshell moves itself into our cgroup, then becomes nspawn (same PID).
  local uh=1; [[ $CGROUP_MODE == hybrid ]] && uh=0
  ( cg_enter "$BASHPID"; export SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=$uh
    exec setsid systemd-nspawn "${args[@]}" \
      > "$STATE/console.log" 2>&1 < /dev/null ) &
  np=$!
  echo "$np" > "$STATE/nspawn.pid"
  for i in $(seq 200); do l=$(leader); [[ -n $l ]] && break; kill -0 "$np" 2>/dev/null || break; sleep 0.05; done
  [[ -n ${l:-} ]] || { cat "$STATE/console.log" >&2; cmd_down; die "container did not start"; }
  st=
  for i in $(seq 300); do
    st=$(IN timeout 60 systemctl is-system-running --wait 2>/dev/null) && break
    [[ $st == degraded ]] && break
    kill -0 "$np" 2>/dev/null || break
    sleep 0.1
  done
  if [[ $st != running && $st != degraded ]]; then
    tail -30 "$STATE/console.log" >&2; cmd_down; die "container did not reach running (state: ${st:-?})"
  fi
  # A real PID 1 raises net.unix.max_dgram_qlen to 512 at boot; in the container
  # /proc/sys is read-only, so do it from here for the container's own netns.
  nsenter -t "$(leader)" -n -- sh -c 'echo 512 > /proc/sys/net/unix/max_dgram_qlen' 2>/dev/null ||
    log "warning: could not raise net.unix.max_dgram_qlen in the container"
  log "container $MACHINE up ($st) in $(since "$t0") s; nspawn pid $np, leader pid $(leader)"
}

cleanup_leftovers() {
  # What a crashed earlier run may have left: our cgroup, nspawn's propagate dir
  # (host /run is not a tmpfs here, and nspawn refuses to rm -rf on disk fs).
  cg_remove
  rm -rf "/run/systemd/nspawn/propagate/$MACHINE"
}

cmd_down() {
  local np i
  np=$(nspawn_pid 2>/dev/null || true)
  if alive; then
    IN systemctl poweroff --no-block >/dev/null 2>&1 || true
    for i in $(seq 200); do kill -0 "$np" 2>/dev/null || break; sleep 0.05; done
    if kill -0 "$np" 2>/dev/null; then
      log "poweroff did not finish in 10 s; SIGTERM to nspawn $np"
      kill -TERM "$np" 2>/dev/null || true
      for i in $(seq 100); do kill -0 "$np" 2>/dev/null || break; sleep 0.05; done
      kill -0 "$np" 2>/dev/null && { local l; l=$(leader); kill -KILL "$np" ${l:+"$l"} 2>/dev/null || true; }
    fi
    wait "$np" 2>/dev/null || true
  fi
  cleanup_leftovers
  rm -f "$STATE/nspawn.pid"
  if grep -q " $ROOTFS" /proc/self/mountinfo; then log "warning: mounts under $ROOTFS remain on the host"; fi
  return 0
}

cmd_status() {
  if alive; then echo "up: nspawn pid $(nspawn_pid), leader $(leader), state $(IN systemctl is-system-running 2>/dev/null || true)"
  elif [[ -n $(cg_pids) ]]; then echo "stale: nspawn gone but processes left in cgroup $CGNAME; run: $0 down"
  else echo "down"; fi
}

cmd_clean() { cmd_down; rm -rf "$ROOTFS" "$ROOTFS.new" "$STATE"; log "removed $ROOTFS"; }

# ---------------------------------------------------------------- run
DEFAULT_PROPS=Id,Type,ControlGroup,NotifyAccess,ActiveState,SubState,Result,StatusText,StatusErrno,MainPID,ExecMainCode,ExecMainStatus,WatchdogUSec,TimeoutStartUSec,TimeoutStopUSec,NRestarts,ExecMainStartTimestampMonotonic,StateChangeTimestampMonotonic

stage_exe() {  # $1 host exe, $2 container dir; prints LD_LIBRARY_PATH dir if libs were copied
  local exe=$1 dir=$2 c lib base copied=0 glibc_diff=0
  c="/proc/$(leader)/root"
  mkdir -p "$c$dir/lib"
  cp -L "$exe" "$c$dir/"
  # Libraries: ldd on the host. A lib identical at the same path in the container
  # is used as is; any other is copied to $dir/lib (LD_LIBRARY_PATH). glibc's own
  # pieces are never copied (they must match the container's ld.so).
  if ldd "$exe" >/dev/null 2>&1; then
    while read -r lib; do
      [[ -f $lib ]] || continue
      if IN cmp -s - "$lib" < "$lib" 2>/dev/null; then continue; fi
      base=$(basename "$lib")
      case $base in
        ld-linux*|libc.so.*|libm.so.*|libpthread.so.*|libdl.so.*|librt.so.*|libresolv.so.*|libutil.so.*|libmvec.so.*|libanl.so.*)
          glibc_diff=1; continue;;
      esac
      cp -L "$lib" "$c$dir/lib/$base"; copied=1
    done < <(ldd "$exe" 2>/dev/null | awk '/=> \//{print $3} /^\s*\/[^ ]+ \(/{print $1}')
  fi
  [[ $glibc_diff == 1 ]] && log "warning: host glibc differs from the container's; link statically if the program fails to start"
  [[ $copied == 1 ]] && echo "$dir/lib"
  return 0
}

stage_rootfs() {  # $1 host exe, $2 container dir: a root for podman's Rootfs= with EXE as /NAME
  # and every library ldd names (glibc's too: the host's ld.so with the host's libc), same paths.
  local exe=$1 root=$2 c lib
  c="/proc/$(leader)/root"
  mkdir -p "$c$root"/{etc,proc,sys,dev,tmp,run,root}
  cp -L "$exe" "$c$root/"
  while read -r lib; do
    [[ -f $lib ]] || continue
    mkdir -p "$c$root$(dirname "$lib")"; cp -L "$lib" "$c$root$lib"
  done < <(ldd "$exe" 2>/dev/null | awk '/=> \//{print $3} /^[ \t]*\/[^ ]+ \(/{print $1}')
  echo 'root:x:0:0:root:/root:/bin/sh' > "$c$root/etc/passwd"
  echo 'root:x:0:' > "$c$root/etc/group"
}

show_state() { SC show -p ActiveState,SubState,Result,StatusText "$UNIT.service" 2>/dev/null; }

# The start (or stop) job is queued synchronously by `systemctl ... --no-block`,
# so "no job pending" means that it has run. Polling InvocationID is not enough:
# a unit that exits cleanly is garbage-collected at once, losing InvocationID,
# StatusText and ExecMain*.
check_cond() {  # $1 cond. 0 met, 1 not yet, 3 unit is dead (cannot be met any more)
  local cond=$1 s act sub stat job
  s=$(SC show -p ActiveState,SubState,StatusText,Job "$UNIT.service" 2>/dev/null)
  act=$(sed -n 's/^ActiveState=//p' <<<"$s"); sub=$(sed -n 's/^SubState=//p' <<<"$s")
  stat=$(sed -n 's/^StatusText=//p' <<<"$s"); job=$(sed -n 's/^Job=//p' <<<"$s")
  local dead=0; [[ -z $job && ( $act == inactive || $act == failed ) ]] && dead=1
  case $cond in
    settled)  [[ -z $job && $act != activating && $act != deactivating ]] && return 0 ;;
    active)   [[ $act == active ]] && return 0 ;;
    running)  [[ $sub == running ]] && return 0 ;;
    inactive) [[ $dead == 1 ]] && return 0; return 1 ;;
    failed)   [[ $act == failed ]] && return 0 ;;
    status:*) grep -Eq -- "${cond#status:}" <<<"$stat" && return 0 ;;
    prop:*)   local kv=${cond#prop:}
              [[ $(SC show -p "${kv%%=*}" --value "$UNIT.service") == "${kv#*=}" ]] && return 0 ;;
    logp:*)   # logp:PRIORITY:ERE, as `journalctl -p PRIORITY` shows it. By this run's invocation:
              # journalctl 252 finds nothing with -p and --after-cursor together.
              local pe=${cond#logp:} inv
              inv=$(SC show -p InvocationID --value "$UNIT.service" 2>/dev/null)
              [[ -n $inv ]] || return 1
              IN journalctl --no-pager -q -o cat -p "${pe%%:*}" _SYSTEMD_INVOCATION_ID="$inv" \
                2>/dev/null |
                grep -E -- "${pe#*:}" >/dev/null && return 0; return 1 ;;
    log:*)    IN journalctl --no-pager -q -o cat --after-cursor="$CURSOR" \
                _SYSTEMD_UNIT="$UNIT.service" + UNIT="$UNIT.service" \
                + _SYSTEMD_USER_UNIT="$UNIT.service" + USER_UNIT="$UNIT.service" \
                + _PID="$MANAGER_PID" 2>/dev/null |
                grep -E -- "${cond#log:}" >/dev/null && return 0; return 1 ;;
    *) die "unknown wait condition: $cond" ;;
  esac
  [[ $dead == 1 ]] && return 3
  return 1
}

wait_for() {  # $1 cond, $2 deadline (epoch s), $3 t0 for the report. Sets rc=1 if not met.
  local w=$1 r
  while :; do
    r=0; check_cond "$w" || r=$?
    [[ $r == 0 ]] && { echo "met: $w after $(since "$3") s; $(show_state | tr '\n' ' ')"; return 0; }
    [[ $r == 3 ]] && { echo "NOT met: $w, unit is dead: $(show_state | tr '\n' ' ')"; rc=1; return 1; }
    if awk -v d="$2" -v n="$(now)" 'BEGIN{exit !(n>d)}'; then
      echo "NOT met: $w, timed out; unit: $(show_state | tr '\n' ' ')"; rc=1; return 1
    fi
    sleep 0.1
  done
}

cmd_run() {
  local props=() uprops=() files=() waits=() timeout=30 stop=0 show=$DEFAULT_PROPS keep=0 debug=0
  local unit_file='' quadlet=0 prun=0 cprops=()
  UNIT=rsd-test
  while [[ $# -gt 0 ]]; do
    case $1 in
      -u|--unit) UNIT=$2; shift 2;;
      -p|--property) props+=("$2"); shift 2;;
      --unit-property) uprops+=("$2"); shift 2;;
      -f|--file) files+=("$2"); shift 2;;
      -w|--wait) waits+=("$2"); shift 2;;
      -t|--timeout) timeout=$2; shift 2;;
      --stop) stop=1; shift;;
      --show) show=$2; shift 2;;
      --keep) keep=1; shift;;
      --user) USER_MODE=1; shift;;
      --debug-pid1) debug=1; shift;;
      --bind-ro) BIND_RO+=("$(realpath "$2")"); shift 2;;
      --unit-file) unit_file=$(realpath "$2"); shift 2;;
      --quadlet) quadlet=1; shift;;
      --podman-run) prun=1; shift;;
      --container-property) cprops+=("$2"); shift 2;;
      -h|--help) usage; exit 0;;
      --) shift; break;;
      -*) die "unknown option $1";;
      *) break;;
    esac
  done
  [[ $# -ge 1 ]] || { usage >&2; exit 2; }
  [[ $UNIT =~ ^[A-Za-z0-9:_.@-]+$ ]] || die "bad unit name"
  local exe; exe=$(command -v -- "$1" || true)
  [[ -n $exe && -f $exe && -x $exe ]] || die "not an executable file: $1"
  shift
  [[ ${#waits[@]} -gt 0 ]] || waits=(settled)
  local ctr=$((quadlet || prun))  # EXE runs in a podman container
  [[ $ctr == 0 || $FLAVOUR == podman ]] || die "--quadlet and --podman-run need RSD_FLAVOUR=podman"
  [[ $ctr == 0 || $USER_MODE == 0 ]] || die "--quadlet and --podman-run are for PID 1 only here"
  [[ $quadlet == 0 || $SUITE != bookworm ]] || die "bookworm's podman 4.3 has no Quadlet (4.4+): use --podman-run"

  local was_up=0; alive && was_up=1
  local t0; t0=$(now)
  cmd_up
  local units=/run/systemd/system
  MANAGER_PID=1
  if [[ $USER_MODE == 1 ]]; then
    user_manager_up
    units=/run/systemd/user MANAGER_PID=$(user_manager_pid)
    IN mkdir -p "$units"
  fi
  local t_run; t_run=$(now)
  local dir=/run/rsd/$UNIT c
  c="/proc/$(leader)/root"
  if [[ $was_up == 1 ]]; then  # leftovers of an earlier run of this unit (--keep)
    SC kill --signal=SIGKILL "$UNIT.service" >/dev/null 2>&1 || true
    SC stop "$UNIT.service" >/dev/null 2>&1 || true
    SC reset-failed "$UNIT.service" >/dev/null 2>&1 || true
    rm -rf "$c$dir"
  fi
  local ldpath='' f q=() a cdir=/run/containers/systemd
  if [[ $ctr == 1 ]]; then
    stage_rootfs "$exe" "$dir/rootfs"
    for f in "${files[@]}"; do cp -rL "$f" "$c$dir/rootfs/"; done
  else
    ldpath=$(stage_exe "$exe" "$dir")
    for f in "${files[@]}"; do cp -rL "$f" "$c$dir/"; done
  fi
  # ExecStart (Quadlet's Exec=): quote each argument for systemd's parser.
  local exe_in; exe_in=$dir/$(basename "$exe"); [[ $ctr == 1 ]] && exe_in=/$(basename "$exe")
  for a in "$exe_in" "$@"; do
    a=${a//\\/\\\\}; a=${a//\"/\\\"}; a=${a//%/%%}; a=${a//\$/\$\$}; q+=("\"$a\"")
  done
  # crun cannot raise RLIMIT_NOFILE/NPROC above the nspawn container's hard limits, which
  # podman's defaults (the maximum) would ask for: the container's own hard limits instead.
  local nofile='' nproc=''
  if [[ $ctr == 1 ]]; then nofile=$(IN bash -c 'ulimit -Hn'); nproc=$(IN bash -c 'ulimit -Hu'); fi
  if [[ $quadlet == 1 ]]; then
    mkdir -p "$c$cdir"
    {
      echo "# written by harness.sh (Quadlet)"
      echo "[Unit]"
      echo "Description=harness.sh Quadlet test of $(basename "$exe")"
      for a in "${uprops[@]}"; do echo "$a"; done
      echo "[Container]"
      echo "Rootfs=$dir/rootfs"
      echo "Exec=${q[*]}"
      echo "Notify=true"
      echo "Network=none"
      echo "PodmanArgs=--ulimit nofile=$nofile:$nofile --ulimit nproc=$nproc:$nproc"
      for a in "${cprops[@]}"; do echo "$a"; done
      echo "[Service]"
      for a in "${props[@]}"; do echo "$a"; done
    } > "$c$cdir/$UNIT.container"
    echo "=== Quadlet file $cdir/$UNIT.container"
    cat "$c$cdir/$UNIT.container"
    SC daemon-reload
    [[ -n $(SC cat "$UNIT.service" 2>/dev/null) ]] ||
      { IN /usr/lib/systemd/system-generators/podman-system-generator --dryrun 2>&1 | tail -20 >&2
        die "Quadlet made no $UNIT.service"; }
  elif [[ $prun == 1 ]]; then
    # bookworm's crun 1.8.1 raises RLIMIT_MEMLOCK for a cgroup (its device eBPF program) and fails
    # (EPERM) where CAP_SYS_RESOURCE is missing, as in this machine's containers: no cgroup of its
    # own for the container then (its processes stay in the unit's).
    local cg=--cgroups=no-conmon; [[ $SUITE == bookworm ]] && cg=--cgroups=disabled
    {
      echo "# written by harness.sh (podman run, as podman generate systemd --new writes it)"
      echo "[Unit]"
      echo "Description=harness.sh podman run test of $(basename "$exe")"
      for a in "${uprops[@]}"; do echo "$a"; done
      echo "[Service]"
      echo "Type=notify"
      echo "NotifyAccess=all"
      echo "Environment=PODMAN_SYSTEMD_UNIT=%n"
      echo "ExecStart=/usr/bin/podman run --cidfile=%t/%n.ctr-id $cg --rm" \
           "--sdnotify=container -d --replace --name rsd-%N --network none" \
           "--ulimit nofile=$nofile:$nofile --ulimit nproc=$nproc:$nproc" \
           "${cprops[*]} --rootfs $dir/rootfs ${q[*]}"
      echo "ExecStop=/usr/bin/podman stop --ignore -t 10 --cidfile=%t/%n.ctr-id"
      echo "ExecStopPost=/usr/bin/podman rm -f --ignore -t 10 --cidfile=%t/%n.ctr-id"
      for a in "${props[@]}"; do echo "$a"; done
    } > "$c$units/$UNIT.service"
  elif [[ -n $unit_file ]]; then
    # The project's own unit file, as shipped: only ExecStart='s program is pointed at the
    # staged copy (its arguments stay), and the staging lines are added to [Service].
    local line
    {
      echo "# $unit_file, adapted by harness.sh"
      while IFS= read -r line || [[ -n $line ]]; do
        if [[ $line == ExecStart=* ]]; then
          local rest=${line#ExecStart=}; rest=${rest#* }; [[ $rest == "${line#ExecStart=}" ]] && rest=
          echo "ExecStart=\"$dir/$(basename "$exe")\" $rest $([[ $# -gt 0 ]] && printf '%s ' "${q[@]:1}")"
          continue
        fi
        echo "$line"
        if [[ $line == "[Service]" ]]; then
          echo "WorkingDirectory=$dir"
          [[ -n $ldpath ]] && echo "Environment=LD_LIBRARY_PATH=$ldpath"
          for a in "${props[@]}"; do echo "$a"; done
        fi
      done < "$unit_file"
    } > "$c$units/$UNIT.service"
  else
  {
    echo "# written by harness.sh"
    echo "[Unit]"
    echo "Description=harness.sh test of $(basename "$exe")"
    for a in "${uprops[@]}"; do echo "$a"; done
    echo "[Service]"
    echo "Type=notify"
    echo "ExecStart=${q[*]}"
    echo "WorkingDirectory=$dir"
    [[ -n $ldpath ]] && echo "Environment=LD_LIBRARY_PATH=$ldpath"
    for a in "${props[@]}"; do echo "$a"; done
  } > "$c$units/$UNIT.service"
  fi
  if [[ $quadlet == 1 ]]; then
    echo "=== unit file made by Quadlet (PID 1)"
    SC cat "$UNIT.service"
  else
    echo "=== unit file $units/$UNIT.service ($([[ $USER_MODE == 1 ]] && echo "user manager of $TEST_USER, PID $MANAGER_PID" || echo "PID 1"))"
    cat "$c$units/$UNIT.service"
    SC daemon-reload
  fi
  SC is-active --quiet "$UNIT.service" 2>/dev/null && die "unit $UNIT already active"
  [[ $debug == 1 ]] && SC log-level debug
  IN journalctl --sync 2>/dev/null || true
  CURSOR=$(IN journalctl -q -n 1 --show-cursor -o cat 2>/dev/null | sed -n 's/^-- cursor: //p' | tail -1)
  local t_start; t_start=$(now)
  SC start --no-block "$UNIT.service"

  local w deadline
  rc=0
  deadline=$(awk -v a="$t_start" -v t="$timeout" 'BEGIN{printf "%.3f", a+t}')
  echo "=== waits (timeout ${timeout}s)"
  for w in "${waits[@]}"; do
    if [[ $w == sleep:* ]]; then sleep "${w#sleep:}"; echo "slept ${w#sleep:}s; $(show_state | tr '\n' ' ')"; continue; fi
    if [[ $w == do:* ]]; then
      case ${w#do:} in
        reload) SC reload --no-block "$UNIT.service" || rc=1 ;;
        reload-blocking)  # as an operator types it: returns when PID 1 ends the reload job
          local tr; tr=$(now)
          if SC reload "$UNIT.service"; then echo "systemctl reload returned 0 after $(since "$tr") s"
          else echo "systemctl reload failed after $(since "$tr") s"; fi ;;
        stop) SC stop --no-block "$UNIT.service" || rc=1 ;;
        kill-*) SC kill --signal="${w#do:kill-}" "$UNIT.service" || rc=1 ;;
        status) echo "=== systemctl status $UNIT.service (during the waits)"
                SC status --no-pager -l -n 0 "$UNIT.service" || true ;;
        *) die "unknown action: $w" ;;
      esac
      echo "did: ${w#do:}"; continue
    fi
    wait_for "$w" "$deadline" "$t_start" || break
  done
  if [[ $stop == 1 ]]; then
    # Bounded: a unit in stop-sigterm after STOPPING=1 waits out TimeoutStopSec.
    local ts; ts=$(now)
    echo "=== systemctl stop"
    SC stop --no-block "$UNIT.service" || true
    wait_for inactive "$(awk -v a="$ts" -v t="$timeout" 'BEGIN{printf "%.3f", a+t}')" "$ts" || true
  fi
  IN journalctl --sync 2>/dev/null || true
  echo "=== systemctl show $UNIT.service"
  SC show -p "$show" "$UNIT.service" || true
  echo "=== systemctl status $UNIT.service"
  SC status --no-pager -l -n 0 "$UNIT.service" || true
  echo "=== journal: the unit, and all PID 1 lines, since the start"
  IN journalctl --no-pager -q -o short-monotonic --after-cursor="$CURSOR" \
     _SYSTEMD_UNIT="$UNIT.service" + UNIT="$UNIT.service" + _SYSTEMD_USER_UNIT="$UNIT.service" \
     + USER_UNIT="$UNIT.service" + _PID="$MANAGER_PID" |
     if [[ $debug == 1 ]]; then  # drop the bus chatter of our own systemctl polling
       grep -Ev 'private-bus-connection|Registering bus object|sd-bus: starting bus|(Accepted new|Got disconnect on) private connection|systemd-journald.service: (Got notification message from PID [0-9]+ \(FDSTORE=1\)|Added fd)'
     else cat; fi || true
  [[ $debug == 1 ]] && SC log-level info
  # Tear down the unit: SIGKILL first, so that a unit stuck in stop-sigterm
  # (after STOPPING=1) does not make `systemctl stop` (or the container's
  # poweroff) wait out TimeoutStopSec.
  SC kill --signal=SIGKILL "$UNIT.service" >/dev/null 2>&1 || true
  echo "=== timings: boot $(awk -v a="$t0" -v b="$t_run" 'BEGIN{printf "%.2f", b-a}') s (0 = reused), run $(since "$t_run") s"
  if [[ $keep == 0 && $was_up == 0 ]]; then
    cmd_down   # the volatile overlay goes with the container: nothing else to undo
  else
    SC stop "$UNIT.service" >/dev/null 2>&1 || true
    SC reset-failed "$UNIT.service" >/dev/null 2>&1 || true
    rm -f "$c$units/$UNIT.service" "$c$cdir/$UNIT.container"; rm -rf "$c$dir"
    SC daemon-reload || true
  fi
  return $rc
}

cmd=${1:-}; [[ $# -gt 0 ]] && shift
case $cmd in
  setup) cmd_setup;;
  up) while [[ $# -gt 0 ]]; do case $1 in --bind-ro) BIND_RO+=("$(realpath "$2")"); shift 2;; *) die "unknown option $1";; esac; done; cmd_up;;
  down) cmd_down;;
  status) cmd_status;;
  exec) [[ $# -gt 0 ]] || die "exec needs a command"; alive || die "container not up"; IN "$@";;
  run) cmd_run "$@";;
  clean) cmd_clean;;
  -h|--help|help|"") usage;;
  *) usage >&2; exit 2;;
esac
