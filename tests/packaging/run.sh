#!/usr/bin/env bash
# Copyright (c) 2026 spdlog_sdnotify authors.
# Distributed under the MIT License (http://opensource.org/licenses/MIT)
#
# The packaging tests (registered by tests/packaging/CMakeLists.txt): outside projects that use
# spdlog_sdnotify the ways the README shows, each building and running consumer.cpp.
#
#   run.sh install           cmake --install of the library's build tree into $SDN_WORK/prefix
#   run.sh find_package      a CMake project with find_package(spdlog_sdnotify) over that prefix
#   run.sh pkg_config        g++ with `pkg-config --cflags --libs spdlog_sdnotify` over it
#   run.sh add_subdirectory  a CMake project with add_subdirectory(<source dir>)
#   run.sh parent_spdlog     the same, in a parent that provides spdlog::spdlog itself
#   run.sh non_linux         configuring for another system fails at once, with the reason
#   run.sh shared            a shared build: only the marked API exported, consumers link and run
#   run.sh header_only       configure the library with SPDLOG_SDNOTIFY_SPDLOG_HEADER_ONLY=ON, build
#                            only its target, install it, then find_package and pkg-config checks
#   run.sh std_format        a C++20 project using spdlog header-only with std::format
#                            (SPDLOG_USE_STD_FORMAT) that adds the library with add_subdirectory
#                            and SPDLOG_SDNOTIFY_SPDLOG_HEADER_ONLY=ON, compiled the same way; needs
#                            <format> (g++ >= 13): skipped otherwise (exit status 77), saying why
#   run.sh version           the version is defined once (include/spdlog_sdnotify/version.h,
#                            read by CMakeLists.txt): the CHANGELOG's newest entry and the README's
#                            find_package() line name the same one
#   run.sh spdlog_source     the fixture of the next two: Debian's source package of spdlog
#                            (`apt-get source`, the deb-src entries made from the host's deb
#                            ones, in an apt configuration of its own), cached in
#                            $SDN_SPDLOG_SRC_CACHE (default /var/tmp/spdlog_sdnotify-src);
#                            skipped (77), saying why, when no deb-src can be reached
#   run.sh spdlog_add_subdirectory  a CMake project that adds spdlog's own sources and then ours
#                            with add_subdirectory (spdlog's real CMake targets, not IMPORTED)
#   run.sh spdlog_fetchcontent      the same with FetchContent: spdlog from its tarball, ours
#                            from a file:// git URL of a snapshot of this source tree
#
# Environment (set by CMakeLists.txt): SDN_SOURCE_DIR, SDN_BUILD_DIR (the library's build tree),
# SDN_WORK (this directory's build dir), SDN_CMAKE, SDN_GENERATOR, SDN_CXX, SDN_CXX_FLAGS and
# SDN_EXE_LINKER_FLAGS (the library build's, e.g. sanitizers: consumers use them too), SDN_VERSION,
# SDN_CONFIG, SDN_HEADER_ONLY (0/1: the flavour of SDN_BUILD_DIR), SDN_WARNINGS (ON/OFF),
# SDN_TOOLS (0/1: sdnotify-watch is built), SDN_JOBS.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mode=${1:?usage: run.sh version|install|find_package|pkg_config|add_subdirectory|parent_spdlog|non_linux|shared|header_only|std_format|spdlog_source|spdlog_add_subdirectory|spdlog_fetchcontent}
prefix=$SDN_WORK/prefix
spdlog_cache=${SDN_SPDLOG_SRC_CACHE:-/var/tmp/spdlog_sdnotify-src}
jobs=${SDN_JOBS:-2}
t0=$(date +%s.%N)

# Consumers are built with the library build's compiler and flags.
same_toolchain=(-G "$SDN_GENERATOR" -DCMAKE_CXX_COMPILER="$SDN_CXX"
                -DCMAKE_CXX_FLAGS="${SDN_CXX_FLAGS:-}"
                -DCMAKE_EXE_LINKER_FLAGS="${SDN_EXE_LINKER_FLAGS:-}")

say() { printf '[packaging.%s] %s\n' "$mode" "$*"; }
fail() { say "FAILED: $*"; exit 1; }
elapsed() { awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'; }
run() { say "\$ $*"; "$@"; }

# Configures and builds one of the consumer projects in a fresh build dir, then runs its program.
consumer_project() {  # SOURCE BUILD [cmake args...]
    local src=$1 build=$2
    shift 2
    rm -rf "$build"
    run "$SDN_CMAKE" -S "$src" -B "$build" "${same_toolchain[@]}" \
        -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON "$@"
    run "$SDN_CMAKE" --build "$build" --target consumer -j"$jobs"
    run "$build/consumer"
}

pc_dir() {  # PREFIX: the directory holding spdlog_sdnotify.pc
    local pc
    pc=$(find "$1" -path '*/pkgconfig/spdlog_sdnotify.pc' | head -1)
    [[ -n $pc ]] || fail "no pkgconfig/spdlog_sdnotify.pc under $1"
    dirname "$pc"
}

# pkg-config's answer for a prefix: the version, and an -I that is PREFIX/include.
pkg_config_checks() {  # PREFIX
    local p=$1 dir flags inc found=
    dir=$(pc_dir "$p")
    export PKG_CONFIG_PATH=$dir
    [[ $(pkg-config --modversion spdlog_sdnotify) == "$SDN_VERSION" ]] ||
        fail "pkg-config --modversion: $(pkg-config --modversion spdlog_sdnotify)"
    flags=$(pkg-config --cflags --libs spdlog_sdnotify) || fail "pkg-config --cflags --libs"
    say "pkg-config --cflags --libs spdlog_sdnotify: $flags"
    for inc in $(pkg-config --cflags-only-I spdlog_sdnotify); do
        [[ $(realpath -m "${inc#-I}") == $(realpath "$p/include") ]] && found=1
    done
    [[ -n $found ]] || fail "no -I for $p/include"
    [[ " $flags " == *" -lspdlog_sdnotify "* ]] || fail "no -lspdlog_sdnotify"
}

skip() { say "SKIPPED: $*"; exit 77; }

# The cached spdlog sources (run.sh spdlog_source): sets spdlog_tarball and spdlog_src.
cached_spdlog() {
    spdlog_tarball=$(compgen -G "$spdlog_cache/spdlog_*.orig.tar.*" | head -1) || true
    spdlog_src=$(compgen -G "$spdlog_cache/src/spdlog-*" | head -1) || true
    [[ -n $spdlog_tarball && -f $spdlog_src/CMakeLists.txt ]] ||
        skip "no spdlog sources in $spdlog_cache (packaging.spdlog_source fetches them; it" \
             "was skipped or failed, see its output)"
}

# The host's Debian deb entries as deb-src: one-line ones on stdout (LIST) or deb822 stanzas.
deb_src_list() {
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -f $f ]] && sed -n -E 's/^[[:space:]]*deb[[:space:]]+(.*debian.*)$/deb-src \1/p' "$f"
    done
    true
}
deb_src_sources() {
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
        [[ -f $f ]] || continue
        awk 'BEGIN { RS = ""; ORS = "\n\n" }
             /URIs:[^\n]*debian/ && /Types:[^\n]*deb/ { sub(/Types:[^\n]*/, "Types: deb-src"); print }' "$f"
    done
}

case $mode in
version)
    h=$SDN_SOURCE_DIR/include/spdlog_sdnotify/version.h
    from_h=$(sed -n -E 's/^#define SPDLOG_SDNOTIFY_VER_(MAJOR|MINOR|PATCH) ([0-9]+).*/\2/p' "$h" | paste -sd.)
    [[ $from_h == "$SDN_VERSION" ]] || fail "version.h says $from_h, CMake's PROJECT_VERSION $SDN_VERSION"
    top=$(grep -m1 -E '^## ' "$SDN_SOURCE_DIR/CHANGELOG.md")
    [[ $top == "## $SDN_VERSION"* ]] || fail "CHANGELOG.md's newest entry is '$top', not $SDN_VERSION"
    grep -qF "find_package(spdlog_sdnotify ${SDN_VERSION%.*} REQUIRED)" "$SDN_SOURCE_DIR/README.md" ||
        fail "README.md's find_package() line does not ask for ${SDN_VERSION%.*}"
    say "version $SDN_VERSION: version.h, CMake, CHANGELOG.md ('$top') and README.md agree"
    ;;
spdlog_source)
    if compgen -G "$spdlog_cache/spdlog_*.orig.tar.*" >/dev/null &&
       compgen -G "$spdlog_cache/src/spdlog-*/CMakeLists.txt" >/dev/null; then
        say "cached: $(basename "$(compgen -G "$spdlog_cache/spdlog_*.dsc" | head -1)") in $spdlog_cache"
        say "passed in $(elapsed) s"
        exit 0
    fi
    command -v apt-get >/dev/null || skip "no apt-get: Debian's source package of spdlog cannot be fetched"
    mkdir -p "$spdlog_cache"
    tmp=$(mktemp -d "$spdlog_cache/fetch.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    mkdir -p "$tmp/etc" "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/dl" "$tmp/src"
    # An apt configuration of our own: the host's sources and lists stay as they are.
    deb_src_list >"$tmp/etc/deb-src.list"
    deb_src_sources >"$tmp/etc/deb-src.sources"
    [[ -s $tmp/etc/deb-src.list ]] || rm "$tmp/etc/deb-src.list"
    [[ -s $tmp/etc/deb-src.sources ]] || rm "$tmp/etc/deb-src.sources"
    compgen -G "$tmp/etc/deb-src.*" >/dev/null ||
        skip "no Debian archive in the host's apt sources to fetch spdlog's source package from"
    apt_opts=(-q -o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$tmp/etc"
              -o Dir::State::Lists="$tmp/lists" -o Dir::Cache="$tmp/cache"
              -o APT::Sandbox::User=root)
    run apt-get "${apt_opts[@]}" update >"$tmp/update.log" 2>&1 ||
        say "apt-get update: $(grep -E '^(E|W):' "$tmp/update.log" | head -3 | tr '\n' ' ')"
    if ! (cd "$tmp/dl" && run apt-get "${apt_opts[@]}" source --download-only spdlog) \
           >"$tmp/source.log" 2>&1; then
        cat "$tmp/source.log"
        skip "apt-get source spdlog failed (no deb-src reachable): $(grep -E '^E:' "$tmp/source.log" | head -1)"
    fi
    orig=$(compgen -G "$tmp/dl/spdlog_*.orig.tar.*" | head -1) || true
    [[ -n $orig ]] || fail "apt-get source gave no spdlog_*.orig.tar.*: $(ls "$tmp/dl")"
    # spdlog's upstream sources, unpacked by CMake (no dpkg-dev needed); Debian's patches are
    # not applied: this is what a FetchContent of spdlog's release gives, less its bundled fmt.
    (cd "$tmp/src" && run "$SDN_CMAKE" -E tar xf "$orig")
    compgen -G "$tmp/src/spdlog-*/CMakeLists.txt" >/dev/null || fail "no spdlog-*/CMakeLists.txt in $orig"
    rm -rf "$spdlog_cache/src"
    mv "$tmp/src" "$spdlog_cache/src"
    mv "$tmp"/dl/spdlog_* "$spdlog_cache/"
    say "fetched: $(cd "$spdlog_cache" && echo spdlog_*) into $spdlog_cache"
    ;;
spdlog_add_subdirectory)
    cached_spdlog
    consumer_project "$here/spdlog_sources" "$SDN_WORK/spdlog_add_subdirectory" \
        -DSPDLOG_SOURCE_DIR="$spdlog_src" -DSPDLOG_SDNOTIFY_SOURCE_DIR="$SDN_SOURCE_DIR"
    ;;
spdlog_fetchcontent)
    cached_spdlog
    command -v git >/dev/null || fail "no git: FetchContent from a git URL needs it"
    # A git repository holding this source tree as it is now (tracked and new files, not the
    # ignored ones): what a user's FetchContent of a tag of ours would clone.
    repo=$SDN_WORK/spdlog_fetchcontent-repo
    rm -rf "$repo"
    mkdir -p "$repo"
    if git -C "$SDN_SOURCE_DIR" rev-parse --git-dir >/dev/null 2>&1; then
        git -C "$SDN_SOURCE_DIR" ls-files -z --cached --others --exclude-standard |
            while IFS= read -r -d '' f; do
                [[ -e $SDN_SOURCE_DIR/$f ]] || continue
                mkdir -p "$repo/$(dirname "$f")"
                cp -p "$SDN_SOURCE_DIR/$f" "$repo/$f"
            done
    else
        skip "$SDN_SOURCE_DIR is not a git checkout: no tree to serve as a git URL"
    fi
    git -C "$repo" init -q
    git -C "$repo" add -A
    git -C "$repo" -c user.name=packaging-test -c user.email=packaging-test@localhost \
        commit -q -m "snapshot for packaging.spdlog_fetchcontent"
    git -C "$repo" tag v0.0.0-test
    consumer_project "$here/spdlog_sources" "$SDN_WORK/spdlog_fetchcontent" \
        -DSPDLOG_URL="$spdlog_tarball" -DSPDLOG_SDNOTIFY_GIT_URL="file://$repo" \
        -DSPDLOG_SDNOTIFY_GIT_TAG=v0.0.0-test -DFETCHCONTENT_QUIET=OFF
    [[ -f $SDN_WORK/spdlog_fetchcontent/_deps/spdlog_sdnotify-src/CMakeLists.txt ]] ||
        fail "FetchContent did not clone spdlog_sdnotify into _deps/spdlog_sdnotify-src"
    ;;
install)
    rm -rf "$prefix"
    run "$SDN_CMAKE" --install "$SDN_BUILD_DIR" --prefix "$prefix" \
        ${SDN_CONFIG:+--config "$SDN_CONFIG"}
    for f in include/spdlog_sdnotify/status_sink.h include/spdlog_sdnotify/version.h; do
        [[ -f $prefix/$f ]] || fail "not installed: $f"
    done
    # Only what a service needs: the PID-1 parser and receiver are the tests' and tools' own.
    for f in include/spdlog_sdnotify/receiver.h; do
        [[ ! -e $prefix/$f ]] || fail "installed, but not for services: $f"
    done
    if compgen -G "$prefix/lib*/libspdlog_sdnotify_receiver*" >/dev/null; then
        fail "installed, but not for services: libspdlog_sdnotify_receiver"
    fi
    if [[ -f $(compgen -G "$prefix/lib*/libspdlog_sdnotify.a" | head -1) ]] &&
       nm -C "$(compgen -G "$prefix/lib*/libspdlog_sdnotify.a" | head -1)" 2>/dev/null |
         grep -qE ' T .*(parse_notification|service_model|notify_receiver)'; then
        fail "the library still defines the PID-1 parser or receiver"
    fi
    for f in libspdlog_sdnotify.* cmake/spdlog_sdnotify/spdlog_sdnotifyConfig.cmake \
             cmake/spdlog_sdnotify/spdlog_sdnotifyConfigVersion.cmake \
             cmake/spdlog_sdnotify/spdlog_sdnotifyTargets.cmake pkgconfig/spdlog_sdnotify.pc; do
        compgen -G "$prefix/lib*/$f" >/dev/null || fail "not installed: <libdir>/$f"
    done
    if [[ ${SDN_TOOLS:-0} == 1 ]]; then
        [[ -x $prefix/bin/sdnotify-watch ]] || fail "not installed: bin/sdnotify-watch"
    fi
    ;;
find_package)
    consumer_project "$here/find_package" "$SDN_WORK/find_package" \
        -DCMAKE_PREFIX_PATH="$prefix" -DEXPECTED_PREFIX="$prefix" \
        -DEXPECTED_VERSION="$SDN_VERSION" -DEXPECT_SPDLOG_HEADER_ONLY="$SDN_HEADER_ONLY"
    # The same program built with -fno-exceptions and SPDLOG_NO_EXCEPTIONS: our headers compile.
    run "$SDN_CMAKE" --build "$SDN_WORK/find_package" --target consumer_no_exceptions -j"$jobs"
    run "$SDN_WORK/find_package/consumer_no_exceptions"
    # The one-include set-up with C++20 designated initialisers.
    run "$SDN_CMAKE" --build "$SDN_WORK/find_package" --target consumer_cxx20 -j"$jobs"
    env -u NOTIFY_SOCKET "$SDN_WORK/find_package/consumer_cxx20"
    ;;
pkg_config)
    pkg_config_checks "$prefix"
    mkdir -p "$SDN_WORK/pkg_config"
    # shellcheck disable=SC2046,SC2086  # flags and pkg-config's words are meant to be split
    run "$SDN_CXX" ${SDN_CXX_FLAGS:-} -std=c++17 \
        -DCONSUMER_EXPECT_SPDLOG_HEADER_ONLY="$SDN_HEADER_ONLY" \
        "$here/consumer.cpp" -o "$SDN_WORK/pkg_config/consumer" ${SDN_EXE_LINKER_FLAGS:-} \
        $(pkg-config --cflags --libs spdlog_sdnotify)
    run "$SDN_WORK/pkg_config/consumer"
    ;;
parent_spdlog)
    consumer_project "$here/parent_spdlog" "$SDN_WORK/parent_spdlog" \
        -DSPDLOG_SDNOTIFY_SOURCE_DIR="$SDN_SOURCE_DIR"
    ;;
non_linux)
    # Configuring for another system stops at once, with the reason.
    rm -rf "$SDN_WORK/non_linux"
    if "$SDN_CMAKE" -S "$SDN_SOURCE_DIR" -B "$SDN_WORK/non_linux" -DCMAKE_SYSTEM_NAME=FreeBSD \
         -DSPDLOG_SDNOTIFY_BUILD_TESTS=OFF >"$SDN_WORK/non_linux.log" 2>&1; then
        fail "configuring for FreeBSD succeeded"
    fi
    grep -q "spdlog_sdnotify builds only for Linux" "$SDN_WORK/non_linux.log" ||
        { cat "$SDN_WORK/non_linux.log"; fail "no clear error for a non-Linux system"; }
    say "configure for FreeBSD: $(grep -m1 'builds only for Linux' "$SDN_WORK/non_linux.log")"
    ;;
add_subdirectory)
    consumer_project "$here/add_subdirectory" "$SDN_WORK/add_subdirectory" \
        -DSPDLOG_SDNOTIFY_SOURCE_DIR="$SDN_SOURCE_DIR"
    [[ -f $SDN_WORK/add_subdirectory/consumerTargets.cmake ]] ||
        fail "export() of a target linking spdlog_sdnotify wrote nothing"
    ;;
shared)
    # BUILD_SHARED_LIBS=ON: hidden visibility, only what is marked SPDLOG_SDNOTIFY_API exported;
    # a find_package consumer (and its C++20 and -fno-exceptions variants) links and runs.
    build=$SDN_WORK/shared-build
    so_prefix=$SDN_WORK/shared-prefix
    rm -rf "$build" "$so_prefix"
    run "$SDN_CMAKE" -S "$SDN_SOURCE_DIR" -B "$build" "${same_toolchain[@]}" \
        -DBUILD_SHARED_LIBS=ON -DSPDLOG_SDNOTIFY_INSTALL=ON -DSPDLOG_SDNOTIFY_BUILD_TESTS=OFF \
        -DSPDLOG_SDNOTIFY_SYSTEM_TESTS=OFF -DSPDLOG_SDNOTIFY_BUILD_EXAMPLES=OFF \
        -DSPDLOG_SDNOTIFY_BUILD_TOOLS=OFF -DSPDLOG_SDNOTIFY_BUILD_BENCH=OFF \
        -DSPDLOG_SDNOTIFY_BUILD_WARNINGS="${SDN_WARNINGS:-OFF}"
    run "$SDN_CMAKE" --build "$build" --target spdlog_sdnotify -j"$jobs"
    run "$SDN_CMAKE" --install "$build" --prefix "$so_prefix"
    so=$(compgen -G "$so_prefix/lib*/libspdlog_sdnotify.so" | head -1)
    [[ -n $so ]] || fail "no libspdlog_sdnotify.so installed"
    exported=$(nm -DC --defined-only "$so" | grep -c ' T ') || true
    say "$exported functions exported"
    if nm -DC --defined-only "$so" | grep ' T ' |
         grep -E 'details::(sender|text_test|lifecycle_state)|append_escaped' >/dev/null; then
        fail "internals are exported: $(nm -DC --defined-only "$so" | grep ' T ' |
              grep -E 'details::(sender|text_test|lifecycle_state)|append_escaped' | head -3)"
    fi
    consumer_project "$here/find_package" "$SDN_WORK/shared-find_package" \
        -DCMAKE_PREFIX_PATH="$so_prefix" -DEXPECTED_PREFIX="$so_prefix" \
        -DEXPECTED_VERSION="$SDN_VERSION" -DEXPECT_SPDLOG_HEADER_ONLY=0
    run "$SDN_CMAKE" --build "$SDN_WORK/shared-find_package" \
        --target consumer_no_exceptions consumer_cxx20 -j"$jobs"
    LD_LIBRARY_PATH=$(dirname "$so") run "$SDN_WORK/shared-find_package/consumer_no_exceptions"
    LD_LIBRARY_PATH=$(dirname "$so") env -u NOTIFY_SOCKET \
        "$SDN_WORK/shared-find_package/consumer_cxx20"
    ;;
header_only)
    build=$SDN_WORK/header_only-build
    ho_prefix=$SDN_WORK/header_only-prefix
    rm -rf "$build" "$ho_prefix"
    run "$SDN_CMAKE" -S "$SDN_SOURCE_DIR" -B "$build" "${same_toolchain[@]}" \
        -DSPDLOG_SDNOTIFY_SPDLOG_HEADER_ONLY=ON \
        -DSPDLOG_SDNOTIFY_INSTALL=ON -DSPDLOG_SDNOTIFY_BUILD_TESTS=OFF \
        -DSPDLOG_SDNOTIFY_SYSTEM_TESTS=OFF -DSPDLOG_SDNOTIFY_BUILD_EXAMPLES=OFF \
        -DSPDLOG_SDNOTIFY_BUILD_TOOLS=OFF -DSPDLOG_SDNOTIFY_BUILD_BENCH=OFF \
        -DSPDLOG_SDNOTIFY_BUILD_WARNINGS="${SDN_WARNINGS:-OFF}"
    run "$SDN_CMAKE" --build "$build" --target spdlog_sdnotify -j"$jobs"
    run "$SDN_CMAKE" --install "$build" --prefix "$ho_prefix"
    pkg_config_checks "$ho_prefix"
    flags=$(pkg-config --cflags --libs spdlog_sdnotify)
    [[ " $flags " != *" -DSPDLOG_COMPILED_LIB "* && " $flags " != *" -lspdlog "* ]] ||
        fail "the header-only flavour's pkg-config file brings the compiled spdlog"
    consumer_project "$here/find_package" "$SDN_WORK/header_only-find_package" \
        -DCMAKE_PREFIX_PATH="$ho_prefix" -DEXPECTED_PREFIX="$ho_prefix" \
        -DEXPECTED_VERSION="$SDN_VERSION" -DEXPECT_SPDLOG_HEADER_ONLY=1
    if command -v readelf >/dev/null; then
        if readelf -d "$SDN_WORK/header_only-find_package/consumer" |
               grep 'NEEDED.*libspdlog' >/dev/null; then
            fail "the header-only consumer links libspdlog"
        fi
    fi
    ;;
std_format)
    # std::format needs the compiler's <format> (libstdc++ 13, g++ >= 13): without it, a skip
    # that says so (ctest's SKIP_RETURN_CODE 77), not a failure.
    mkdir -p "$SDN_WORK/std_format-probe"
    probe=$SDN_WORK/std_format-probe/probe.cpp
    printf '%s\n' '#include <format>' '#if !defined(__cpp_lib_format)' '#error no std::format' \
        '#endif' 'int main() { return std::format("{}", 1).size() == 1 ? 0 : 1; }' >"$probe"
    # shellcheck disable=SC2086  # the flags are meant to be split
    if ! "$SDN_CXX" ${SDN_CXX_FLAGS:-} -std=c++20 "$probe" -o "$probe.out" \
           ${SDN_EXE_LINKER_FLAGS:-} >"$probe.log" 2>&1; then
        say "SKIPPED: $("$SDN_CXX" --version | head -1) has no usable std::format (<format>" \
            "needs g++ >= 13, e.g. Debian 13: scripts/test_debian13.sh runs this test):" \
            "$(grep -m1 -E 'error|fatal' "$probe.log" || true)"
        exit 77
    fi
    consumer_project "$here/std_format" "$SDN_WORK/std_format" \
        -DSPDLOG_SDNOTIFY_SOURCE_DIR="$SDN_SOURCE_DIR" -DSPDLOG_SDNOTIFY_SPDLOG_HEADER_ONLY=ON \
        -DSPDLOG_SDNOTIFY_BUILD_WARNINGS="${SDN_WARNINGS:-OFF}"
    run "$SDN_CMAKE" --build "$SDN_WORK/std_format" --target consumer_cxx20 -j"$jobs"
    env -u NOTIFY_SOCKET "$SDN_WORK/std_format/consumer_cxx20"
    if command -v readelf >/dev/null &&
       readelf -d "$SDN_WORK/std_format/consumer" | grep 'NEEDED.*libspdlog' >/dev/null; then
        fail "the header-only std::format consumer links libspdlog"
    fi
    ;;
*)
    fail "unknown mode"
    ;;
esac
say "passed in $(elapsed) s"
