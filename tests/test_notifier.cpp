// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#include <spdlog_sdnotify/error.h>
#include <spdlog_sdnotify/notifier.h>

#include <errno.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "catch.h"
#include "fake_receiver.h"

using namespace std::string_literals;
using spdlog_sdnotify::errc;
using spdlog_sdnotify::message;
using spdlog_sdnotify::notifier;
using spdlog_sdnotify::notify_address;
using test::fake_receiver;

TEST_CASE("notify_socket_unset_is_a_quiet_no_op", "[notifier]") {
    unsetenv("NOTIFY_SOCKET");
    notifier n;
    CHECK_FALSE(n.enabled());
    auto r = n.ready("hello");
    CHECK(r.is_no_manager());
    CHECK(static_cast<bool>(r));  // not a failure
    CHECK(r.code() == 0);
    CHECK(n.send(message{}.stopping()).is_no_manager());
    CHECK(n.open().is_no_manager());
    CHECK(n.send_signal_safe("READY=1", 7) == 0);
    CHECK(spdlog_sdnotify::notify(message{}.ready()).code() == 0);
}

TEST_CASE("empty_notify_socket_is_no_manager", "[notifier]") {
    setenv("NOTIFY_SOCKET", "", 1);
    CHECK(notifier{}.ready().is_no_manager());
}

TEST_CASE("path_socket_receives_ready_and_status", "[notifier]") {
    fake_receiver rx;
    rx.export_env();
    notifier n;
    REQUIRE(n.enabled());
    auto r = n.ready("listening on :8080");
    CHECK(r.is_sent());
    CHECK(r.code() == 1);
    REQUIRE(rx.next());
    CHECK(rx.raw.back() == "READY=1\nSTATUS=listening on :8080\n");
    CHECK(std::string(rx.model.active_state()) == "active");
    CHECK(rx.model.status_text() == "listening on :8080");
    CHECK(rx.senders.back() == getpid());
}

TEST_CASE("abstract_socket_uses_exact_address_length", "[notifier]") {
    fake_receiver rx(fake_receiver::kind::abstract);
    REQUIRE(rx.address().front() == '@');
    notifier n(rx.address());
    REQUIRE(n.address());
    CHECK(n.address()->family == notify_address::family_type::abstract);
    CHECK(n.status("abstract ok").is_sent());
    REQUIRE(rx.next());
    CHECK(rx.model.status_text() == "abstract ok");
}

TEST_CASE("protocol_table_rows_through_a_socket", "[notifier][sanitize]") {
    fake_receiver rx;
    notifier n(rx.address());
    REQUIRE(n.ready().is_sent());
    REQUIRE(rx.next());
    struct row {
        std::string text, status_text;
    };
    const row rows[] = {
        {"working 1/3", "working 1/3"},
        {"line1\nline2", "line1 line2"},
        {"progress 50%\nSTOPPING=1", "progress 50% STOPPING=1"},
        {"first\nSTATUS=second", "first STATUS=second"},
        {"C:\\tmp\\x20end", "C:\\tmp\\x20end"},
        {"abc\\", "abc\\"},
        {"bad\xff\xfe"
         "end",
         "bad\uFFFD\uFFFDend"},
        {"ab\0cd"s, "abcd"},
        {"tab\there esc\x1b bell\x07", "tab\there esc  bell "},
    };
    for (const auto &r : rows) {
        INFO("status text: " << r.text);
        REQUIRE(n.status(r.text).is_sent());
        auto parsed = rx.next();
        REQUIRE(parsed);
        CHECK(parsed->accepted);
        CHECK(parsed->warnings.empty());
        CHECK(rx.model.status_text() == r.status_text);
        CHECK(std::string(rx.model.active_state()) == "active");
    }
    CHECK(rx.model.stopping_count() == 0);
}

TEST_CASE("ten_kilobyte_status_arrives_shortened", "[notifier][sanitize]") {
    fake_receiver rx;
    notifier n(rx.address());
    REQUIRE(n.stopping(std::string(10 * 1024, 'z')).is_sent());
    auto parsed = rx.next();
    REQUIRE(parsed);
    CHECK(parsed->accepted);
    CHECK(rx.raw.back().size() <= 4096);
    CHECK(std::string(rx.model.active_state()) == "deactivating");
    const auto &status = rx.model.status_text();
    CHECK(status.size() > 4000);
    CHECK(status.substr(status.size() - 3) == "\u2026");
}

TEST_CASE("empty_status_clears", "[notifier]") {
    fake_receiver rx;
    notifier n(rx.address());
    n.status("something");
    REQUIRE(rx.next());
    REQUIRE(rx.model.status_text() == "something");
    CHECK(n.status("").is_sent());
    REQUIRE(rx.next());
    CHECK(rx.raw.back() == "STATUS=\n");
    CHECK(rx.model.status_text().empty());
}

TEST_CASE("address_forms_parse", "[notifier][address]") {
    std::error_code ec;
    auto p = notify_address::parse("/run/systemd/notify", ec);
    REQUIRE(p);
    CHECK(p->family == notify_address::family_type::path);
    CHECK(p->to_string() == "/run/systemd/notify");

    auto a = notify_address::parse("@/org/freedesktop/systemd1/notify", ec);
    REQUIRE(a);
    CHECK(a->family == notify_address::family_type::abstract);
    CHECK(a->name == "/org/freedesktop/systemd1/notify");
    CHECK(a->to_string() == "@/org/freedesktop/systemd1/notify");

    using vt = notify_address::vsock_type;
    const std::pair<std::string, vt> vsocks[] = {{"vsock:2:1234", vt::any},
                                                 {"vsock-stream:2:1234", vt::stream},
                                                 {"vsock-dgram:2:1234", vt::dgram},
                                                 {"vsock-seqpacket:2:1234", vt::seqpacket}};
    for (const auto &[text, type] : vsocks) {
        auto v = notify_address::parse(text, ec);
        INFO(text);
        REQUIRE(v);
        CHECK(!ec);
        CHECK(v->family == notify_address::family_type::vsock);
        CHECK(v->cid == 2);
        CHECK(v->port == 1234);
        CHECK(v->type == type);
        CHECK(v->to_string() == text);
    }
    auto big = notify_address::parse("vsock:4294967294:4294967295", ec);
    REQUIRE(big);
    CHECK(big->cid == 4294967294U);
}

TEST_CASE("bad_addresses_are_error_results", "[notifier][address]") {
    const std::string bad[] = {"relative/path",
                               "@",
                               "vsock:",
                               "vsock:2",
                               "vsock::1234",  // CID is mandatory for sd_notify
                               "vsock:2:",
                               "vsock:x:1",
                               "vsock:-1:5",
                               "vsock:4294967296:1",
                               "vsock:4294967295:1",  // VMADDR_CID_ANY
                               "vsock-foo:2:1",
                               "tcp:127.0.0.1:80",
                               " /leading/space",
                               "/a\0b"s};
    for (const auto &text : bad) {
        INFO("address: " << text);
        std::error_code ec;
        CHECK_FALSE(notify_address::parse(text, ec));
        CHECK(ec == errc::bad_address);
        notifier n(text);
        CHECK(n.enabled());
        auto r = n.ready();
        CHECK(r.is_failed());
        CHECK(r.error() == errc::bad_address);
        CHECK(r.code() < 0);
    }
    std::error_code ec;
    CHECK_FALSE(notify_address::parse("/" + std::string(107, 'p'), ec));
    CHECK(ec == errc::address_too_long);
    CHECK(notify_address::parse("/" + std::string(106, 'p'), ec));
    CHECK_FALSE(notify_address::parse("@" + std::string(108, 'p'), ec));
    CHECK(ec == errc::address_too_long);
    CHECK(notify_address::parse("@" + std::string(107, 'p'), ec));
}

TEST_CASE("notify_socket_with_bad_value_from_environment", "[notifier][address]") {
    setenv("NOTIFY_SOCKET", "not-a-socket", 1);
    notifier n;
    CHECK(n.enabled());
    CHECK(n.address_error() == errc::bad_address);
    CHECK(n.ready().error() == errc::bad_address);
}

// finit 4.4-4.12 put the number of an inherited descriptor in NOTIFY_SOCKET ("3"). It is not an
// address: a distinct error that says so, and never a send to a relative path "3" (which a
// client taking "anything but @" for a path would do; the control, fd_number_address, does).
TEST_CASE("a_bare_fd_number_in_notify_socket_is_unsupported_never_a_path", "[notifier][address]") {
    char tmpl[] = "/tmp/sdnotify-fdnum-XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    const std::string dir = tmpl;
    char old_cwd[4096];
    REQUIRE(getcwd(old_cwd, sizeof old_cwd) != nullptr);
    REQUIRE(chdir(dir.c_str()) == 0);
    // A datagram socket at ./3, where a send to the relative path "3" would land.
    const int rx = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    REQUIRE(rx >= 0);
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    un.sun_path[0] = '3';
    REQUIRE(bind(rx, reinterpret_cast<const sockaddr *>(&un), sizeof un) == 0);
    for (const char *text : {"3", "0", "12", "007"}) {
        INFO("NOTIFY_SOCKET=" << text);
        std::error_code ec;
        CHECK_FALSE(notify_address::parse(text, ec));
        CHECK(ec == errc::fd_number_address);
        setenv("NOTIFY_SOCKET", text, 1);
        notifier n;
        CHECK(n.enabled());  // configured, so never taken for "not under a manager" either
        CHECK(n.address_error() == errc::fd_number_address);
        CHECK(n.address_text() == text);
        for (const auto &r : {n.ready(), n.send_raw("READY=1\n"), n.status("x"), n.open()}) {
            CHECK(r.is_failed());
            CHECK_FALSE(r.is_sent());
            CHECK(r.error() == errc::fd_number_address);
            CHECK(r.code() == -EAFNOSUPPORT);
        }
        CHECK(n.send_signal_safe("READY=1\n", 8) < 0);
    }
    char buf[64];
    const ssize_t got = recv(rx, buf, sizeof buf, MSG_DONTWAIT);
    const int got_errno = errno;
    close(rx);
    unlink("3");
    REQUIRE(chdir(old_cwd) == 0);
    rmdir(dir.c_str());
    CHECK(got < 0);  // nothing reached ./3
    CHECK(got_errno == EAGAIN);
    const std::string text = std::error_code(errc::fd_number_address).message();
    INFO(text);
    CHECK(text.find("file descriptor number") != std::string::npos);
    CHECK(text.find("finit 4.4-4.12") != std::string::npos);
    CHECK(text.find("unsupported") != std::string::npos);
    // Numbers with anything else are still the generic error, and a path with digits is fine.
    std::error_code ec;
    CHECK_FALSE(notify_address::parse("3x", ec));
    CHECK(ec == errc::bad_address);
    CHECK(notify_address::parse("/run/3", ec));
    CHECK(notify_address::parse("@3", ec));
}

TEST_CASE("vsock_without_a_transport_fails_cleanly", "[notifier][address]") {
    // No hypervisor here: the send must come back with an errno, not crash or hang.
    for (const char *address : {"vsock:2:9999", "vsock-dgram:2:9999", "vsock-stream:1:9999"}) {
        INFO(address);
        notifier n(address);
        auto r = n.ready();
        CHECK(r.is_failed());
        CHECK(r.error().category() == std::system_category());
        CHECK(r.code() < 0);
    }
}

TEST_CASE("unset_environment_option", "[notifier]") {
    fake_receiver rx;
    rx.export_env();
    notifier n(spdlog_sdnotify::notifier_options{true, false, std::chrono::milliseconds(100)});
    CHECK(getenv("NOTIFY_SOCKET") == nullptr);
    CHECK(n.ready().is_sent());  // the address was read before unsetting
    REQUIRE(rx.next());
    CHECK(notifier{}.ready().is_no_manager());  // a later reader (or child) finds nothing
}

TEST_CASE("receiver_that_never_reads_gives_eagain_promptly", "[notifier]") {
    fake_receiver rx;
    notifier n(rx.address());
    // Fill the receiver's queue; a blocking client would hang here, so run it with a deadline.
    auto job = std::async(std::launch::async, [&] {
        for (int i = 0; i < 100000; ++i) {
            auto r = n.status("filling " + std::to_string(i));
            if (r.is_failed()) return std::make_pair(i, r.error());
        }
        return std::make_pair(-1, std::error_code{});
    });
    REQUIRE(job.wait_for(std::chrono::seconds(20)) == std::future_status::ready);
    auto [sent, error] = job.get();
    CHECK(sent > 0);
    CHECK(error == std::errc::resource_unavailable_try_again);
    // Once the receiver reads again, sends go through.
    CHECK(rx.drain(std::chrono::milliseconds(50)) == static_cast<std::size_t>(sent));
    CHECK(n.status("after the stall").is_sent());
    REQUIRE(rx.next());
    CHECK(rx.model.status_text() == "after the stall");
}

TEST_CASE("receiver_that_went_away_and_came_back", "[notifier]") {
    fake_receiver rx;
    notifier n(rx.address());
    REQUIRE(n.ready().is_sent());
    REQUIRE(rx.next());
    rx.close();
    auto r = n.status("nobody listens");
    CHECK(r.is_failed());
    CHECK((r.error() == std::errc::no_such_file_or_directory ||
           r.error() == std::errc::connection_refused));
    rx.open();  // same path, new socket: the next send finds it
    CHECK(n.status("back").is_sent());
    REQUIRE(rx.next());
    CHECK(rx.model.status_text() == "back");
}

namespace {
// Runs `body` in a forked child and returns its exit status.
template <typename Body>
int in_child(Body &&body) {
    const pid_t pid = fork();
    if (pid == 0) _exit(body());
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 255;
}
}  // namespace

TEST_CASE("forked_child_may_not_send_by_default", "[notifier][fork]") {
    fake_receiver rx;
    notifier n(rx.address());
    REQUIRE(n.status("parent").is_sent());  // the parent's socket exists before the fork
    REQUIRE(rx.next());
    const int child = in_child([&] {
        auto r = n.status("child overwrites");
        return r.error() == errc::forked_child && r.code() == -EPERM ? 0 : 1;
    });
    CHECK(child == 0);
    CHECK_FALSE(rx.next(std::chrono::milliseconds(200)));
    CHECK(rx.model.status_text() == "parent");
    CHECK(n.status("parent again").is_sent());  // the parent's socket is untouched
    REQUIRE(rx.next());
    CHECK(rx.model.status_text() == "parent again");
}

TEST_CASE("forked_child_allowed_uses_its_own_socket", "[notifier][fork]") {
    fake_receiver rx;
    spdlog_sdnotify::notifier_options options;
    options.allow_forked_child = true;
    notifier n(rx.address(), options);
    REQUIRE(n.open().is_sent());
    const int child = in_child([&] { return n.status("from child").is_sent() ? 0 : 1; });
    CHECK(child == 0);
    REQUIRE(rx.next());
    CHECK(rx.model.status_text() == "from child");
    CHECK(rx.senders.back() != getpid());
    CHECK(n.status("from parent").is_sent());
    REQUIRE(rx.next());
    CHECK(rx.senders.back() == getpid());
}

TEST_CASE("socket_is_not_inherited_across_exec", "[notifier][fork]") {
    fake_receiver rx;
    notifier n(rx.address());
    REQUIRE(n.open().is_sent());
    // The child execs a shell that lists its descriptors: our socket must not be among them.
    int pipefd[2];
    REQUIRE(pipe(pipefd) == 0);
    const pid_t pid = fork();
    if (pid == 0) {
        dup2(pipefd[1], 1);
        execl("/bin/sh", "sh", "-c", "ls -l /proc/self/fd | grep -c socket || true", nullptr);
        _exit(127);
    }
    close(pipefd[1]);
    char buf[32] = {};
    const auto got = read(pipefd[0], buf, sizeof buf - 1);
    close(pipefd[0]);
    waitpid(pid, nullptr, 0);
    REQUIRE(got > 0);
    CHECK(std::string(buf) == "0\n");
}

TEST_CASE("signal_safe_send_uses_the_pre_opened_socket", "[notifier]") {
    fake_receiver rx;
    notifier n(rx.address());
    static const char datagram[] = "STOPPING=1\n";
    CHECK(n.send_signal_safe(datagram, sizeof datagram - 1) == -EBADF);  // not opened yet
    REQUIRE(n.open().is_sent());
    errno = 1234;
    CHECK(n.send_signal_safe(datagram, sizeof datagram - 1) == 1);
    CHECK(errno == 1234);
    REQUIRE(rx.next());
    CHECK(std::string(rx.model.active_state()) == "deactivating");
}

TEST_CASE("raw_datagrams_are_checked", "[notifier]") {
    fake_receiver rx;
    notifier n(rx.address());
    CHECK(n.send_raw(std::string(4097, 'a')).error() == errc::message_too_large);
    CHECK(n.send_raw("READY=1\0"s).error() == errc::invalid_value);
    CHECK(n.send_raw("").error() == errc::empty_message);
    CHECK(n.send_raw("READY=1\nSTATUS=raw\n").is_sent());
    REQUIRE(rx.next());
    CHECK(rx.model.status_text() == "raw");
    CHECK(n.send(message{}.custom("nope", "x")).error() == errc::invalid_key);
}

TEST_CASE("descriptor_exhaustion_is_an_error_result", "[notifier]") {
    fake_receiver rx;
    notifier n(rx.address());
    rlimit old{};
    getrlimit(RLIMIT_NOFILE, &old);
    rlimit low = old;
    low.rlim_cur = 0;  // no new descriptor can be opened
    // No test macro runs while the limit is down: sanitizer runtimes need descriptors too.
    const int rc = setrlimit(RLIMIT_NOFILE, &low);
    auto r = n.ready();
    setrlimit(RLIMIT_NOFILE, &old);
    REQUIRE(rc == 0);
    CHECK(r.is_failed());
    CHECK(r.error() == std::errc::too_many_files_open);
    CHECK(n.ready().is_sent());  // and it recovers
}

TEST_CASE("several_threads_send_at_once", "[notifier]") {
    fake_receiver rx;
    notifier n(rx.address());
    // The reader runs beside the senders: the kernel queue holds only max_dgram_qlen datagrams.
    auto reader = std::async(std::launch::async, [&] {
        std::set<std::string> got;
        while (got.size() < 160 && rx.next(std::chrono::seconds(5))) got.insert(rx.raw.back());
        return got;
    });
    std::vector<std::future<bool>> jobs;
    for (int t = 0; t < 8; ++t) {
        jobs.push_back(std::async(std::launch::async, [&n, t] {
            for (int i = 0; i < 20; ++i) {
                const auto text = "t" + std::to_string(t) + " " + std::to_string(i);
                auto r = n.status(text);
                while (r.error() == std::errc::resource_unavailable_try_again) {
                    std::this_thread::sleep_for(std::chrono::milliseconds(1));
                    r = n.status(text);
                }
                if (!r.is_sent()) return false;
            }
            return true;
        }));
    }
    for (auto &j : jobs) CHECK(j.get());
    const auto got = reader.get();
    CHECK(got.size() == 160);
    CHECK(got.count("STATUS=t0 0\n") == 1);  // every datagram whole, none interleaved
    CHECK(got.count("STATUS=t7 19\n") == 1);
}

TEST_CASE("watchdog_enabled_reads_watchdog_usec_and_pid", "[notifier][watchdog]") {
    using spdlog_sdnotify::watchdog_enabled;
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    CHECK_FALSE(watchdog_enabled());
    setenv("WATCHDOG_USEC", "2000000", 1);
    REQUIRE(watchdog_enabled());
    CHECK(*watchdog_enabled() == std::chrono::seconds(2));
    setenv("WATCHDOG_PID", std::to_string(getpid()).c_str(), 1);
    CHECK(watchdog_enabled());
    setenv("WATCHDOG_PID", std::to_string(getpid() + 1).c_str(), 1);
    CHECK_FALSE(watchdog_enabled());  // meant for another process (e.g. our parent)
    setenv("WATCHDOG_PID", std::to_string(getpid()).c_str(), 1);
    for (const char *bad : {"0", "", "abc", "-5", "18446744073709551615", "12x"}) {
        INFO(bad);
        setenv("WATCHDOG_USEC", bad, 1);
        CHECK_FALSE(watchdog_enabled());
    }
    setenv("WATCHDOG_USEC", "500000", 1);
    CHECK(watchdog_enabled(true));
    CHECK(getenv("WATCHDOG_USEC") == nullptr);
    CHECK(getenv("WATCHDOG_PID") == nullptr);
}

TEST_CASE("booted_matches_run_systemd_system", "[notifier]") {
    CHECK(spdlog_sdnotify::booted() == (access("/run/systemd/system/", F_OK) == 0));
}

TEST_CASE("notify_result_outcome_names_what_happened", "[notifier]") {
    using spdlog_sdnotify::notify_result;
    CHECK(notify_result::sent().outcome() == notify_result::outcome_type::sent);
    CHECK(notify_result::no_manager().outcome() == notify_result::outcome_type::no_manager);
    CHECK(notify_result::failed(errc::short_write).outcome() ==
          notify_result::outcome_type::failed);
}

TEST_CASE("every_errc_has_a_message_of_its_own", "[notifier][errc]") {
    std::set<std::string> seen;
    for (int v = static_cast<int>(errc::bad_address);
         v <= static_cast<int>(errc::fd_number_address); ++v) {
        const auto text = make_error_code(static_cast<errc>(v)).message();
        CHECK(text != "unknown spdlog_sdnotify error");
        seen.insert(text);
    }
    CHECK(seen.size() == static_cast<std::size_t>(errc::fd_number_address));
    CHECK(make_error_code(errc::short_write).message() == "notify datagram was sent short");
    CHECK(spdlog_sdnotify::error_category().message(0) == "unknown spdlog_sdnotify error");
    CHECK(std::string(spdlog_sdnotify::error_category().name()) == "spdlog_sdnotify");
}

TEST_CASE("default_notifier_takes_options_set_before_it_is_made", "[notifier][default]") {
    fake_receiver rx;
    setenv("NOTIFY_SOCKET", rx.address().c_str(), 1);
    spdlog_sdnotify::notifier_options options;
    options.unset_environment = true;
    CHECK(spdlog_sdnotify::set_default_notifier_options(options));
    // Made once, whichever thread asks first.
    std::vector<std::future<notifier *>> makers;
    for (int i = 0; i < 4; ++i)
        makers.push_back(
            std::async(std::launch::async, [] { return &spdlog_sdnotify::default_notifier(); }));
    std::set<notifier *> made;
    for (auto &m : makers) made.insert(m.get());
    CHECK(made.size() == 1);
    CHECK(getenv("NOTIFY_SOCKET") == nullptr);  // unset_environment applied
    CHECK(spdlog_sdnotify::default_notifier().status("with options").is_sent());
    REQUIRE(rx.next());
    CHECK(rx.model.status_text() == "with options");
}

TEST_CASE("default_notifier_options_set_too_late_are_refused_and_said", "[notifier][default]") {
    unsetenv("NOTIFY_SOCKET");
    CHECK_FALSE(spdlog_sdnotify::default_notifier().enabled());
    int pipefd[2];
    REQUIRE(pipe(pipefd) == 0);
    const int saved = dup(2);
    REQUIRE(saved >= 0);
    dup2(pipefd[1], 2);
    spdlog_sdnotify::notifier_options options;
    options.unset_environment = true;
    const bool applied = spdlog_sdnotify::set_default_notifier_options(options);
    dup2(saved, 2);
    close(saved);
    close(pipefd[1]);
    std::string said;
    char buf[256];
    for (ssize_t got; (got = read(pipefd[0], buf, sizeof buf)) > 0;)
        said.append(buf, static_cast<std::size_t>(got));
    close(pipefd[0]);
    CHECK_FALSE(applied);
    CHECK(said ==
          "spdlog_sdnotify: error: set_default_notifier_options() called after the default "
          "notifier was made; call it first in main()\n");
}
