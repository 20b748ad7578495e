// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)

// End to end against the NOTIFY_SOCKET receivers that read only READY (docs: receivers table;
// issue 15): runc, crun, finit >= 4.13 and OpenRC >= 0.62 (s6's sdnotify-wrapper and
// `systemd-notify --fork` behave as these: they stop reading, or go away, after READY). Each
// fake is a real AF_UNIX datagram socket that reads as that receiver does, then stops. The
// service is what an application has: a logger with the status sink, a lifecycle that sends
// READY on a record, a status line every millisecond. After the receiver stops: the heap stays
// flat, failed sends back off to about one a second, the operator gets one diagnostic, no log
// call blocks, and (runc, OpenRC) the newest status arrives once the receiver is back.
#include <spdlog_sdnotify/lifecycle.h>
#include <spdlog_sdnotify/status_sink.h>

#include <spdlog/spdlog.h>

#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

#include "catch.h"
#include "fake_receiver.h"

using namespace std::chrono_literals;
using spdlog_sdnotify::dispatcher;
using spdlog_sdnotify::dispatcher_options;

namespace {

using steady = std::chrono::steady_clock;

enum class style { runc, crun, finit, openrc };

const char *name_of(style s) {
    switch (s) {
        case style::runc:
            return "runc";
        case style::crun:
            return "crun";
        case style::finit:
            return "finit";
        case style::openrc:
            return "openrc";
    }
    return "?";
}

// What each takes for readiness, on the bytes it reads of one datagram.
bool takes_as_ready(style s, std::string_view d) {
    switch (s) {
        case style::runc:  // a datagram counts only if it starts with READY=
            return d.substr(0, 6) == "READY=";
        case style::crun:  // READY=1 within the first 255 bytes (it reads no more)
            return d.find("READY=1") != std::string_view::npos;
        case style::finit:  // an exact, complete READY=1 line within the 31 bytes it reads
        case style::openrc: {
            for (std::size_t at = 0; at < d.size();) {
                const auto end = d.find('\n', at);
                if (end == std::string_view::npos) return false;
                if (d.substr(at, end - at) == "READY=1") return true;
                at = end + 1;
            }
            return false;
        }
    }
    return false;
}

std::size_t read_size(style s) {
    switch (s) {
        case style::crun:
            return 255;
        case style::finit:
            return 31;
        default:
            return 4096;
    }
}

// A receiver of one style on a real socket: reads until it takes READY, then stops reading
// (runc, crun, finit: the socket stays open and its queue fills) or goes away (OpenRC: closed
// and unlinked).
class ready_only_receiver {
public:
    explicit ready_only_receiver(style s) : style_(s) {
        if (s == style::finit) {
            // finit >= 4.13: an abstract name, bound with its exact length.
            abstract_name_ = "run/finit/notify/" + std::to_string(getpid());
            address_ = "@" + abstract_name_;
        } else {
            char tmpl[] = "/tmp/sdnotify-ro-XXXXXX";
            if (mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
            dir_ = tmpl;
            address_ = dir_ + "/notify";
        }
        bind_socket();
    }
    ~ready_only_receiver() {
        close_socket();
        if (!dir_.empty()) rmdir(dir_.c_str());
    }
    ready_only_receiver(const ready_only_receiver &) = delete;
    ready_only_receiver &operator=(const ready_only_receiver &) = delete;

    const std::string &address() const { return address_; }

    /// Reads as the receiver does until it takes a datagram as READY; false on timeout.
    bool wait_for_ready(std::chrono::milliseconds timeout) {
        const auto until = steady::now() + timeout;
        std::string d;
        while (receive(read_size(style_), until, d)) {
            if (takes_as_ready(style_, d)) {
                ready_bytes = d;
                return true;
            }
            ++before_ready;
        }
        return false;
    }

    /// What it does once READY is in: stop reading, or (OpenRC) close and unlink the socket.
    void after_ready() {
        if (style_ == style::openrc) close_socket();
    }

    /// It comes back: reads again (runc-style), or a socket is bound at the same path (OpenRC).
    void resume() {
        if (fd_ < 0) bind_socket();
    }

    /// Reads whole datagrams until one carries `status` as its STATUS; false on timeout.
    bool read_until_status(const std::string &status, std::chrono::milliseconds timeout) {
        const auto until = steady::now() + timeout;
        const std::string line = "STATUS=" + status + "\n";
        std::string d;
        while (receive(4096, until, d)) {
            ++after_resume;
            if (d.find(line) != std::string::npos) return true;
        }
        return false;
    }

    std::string ready_bytes;       // what it read of the datagram it took as READY
    std::size_t before_ready = 0;  // datagrams it read and did not take as READY
    std::size_t after_resume = 0;  // datagrams read once back

private:
    bool receive(std::size_t size, steady::time_point until, std::string &out) {
        char buf[4097];
        for (;;) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(until - steady::now());
            if (left.count() <= 0) return false;
            pollfd p{fd_, POLLIN, 0};
            const int rc = ::poll(&p, 1, static_cast<int>(left.count()));
            if (rc < 0 && errno == EINTR) continue;
            if (rc <= 0) return false;
            // A smaller buffer than the datagram: the kernel drops the rest, as for finit's 31.
            const ssize_t n = ::recv(fd_, buf, std::min(size, sizeof buf), MSG_DONTWAIT);
            if (n < 0) {
                if (errno == EAGAIN || errno == EINTR) continue;
                return false;
            }
            out.assign(buf, static_cast<std::size_t>(n));
            return true;
        }
    }
    void bind_socket() {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0) throw std::runtime_error("socket failed");
        sockaddr_un un{};
        un.sun_family = AF_UNIX;
        socklen_t len;
        if (!abstract_name_.empty()) {
            memcpy(un.sun_path + 1, abstract_name_.data(), abstract_name_.size());
            len =
                static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + abstract_name_.size());
        } else {
            memcpy(un.sun_path, address_.data(), address_.size());
            len = static_cast<socklen_t>(sizeof un);
        }
        if (::bind(fd_, reinterpret_cast<const sockaddr *>(&un), len) != 0)
            throw std::runtime_error("cannot bind " + address_ + ": " + strerror(errno));
    }
    void close_socket() {
        if (fd_ < 0) return;
        ::close(fd_);
        fd_ = -1;
        if (abstract_name_.empty()) unlink(address_.c_str());
    }

    style style_;
    std::string dir_;
    std::string abstract_name_;
    std::string address_;
    int fd_ = -1;
};

// Waits until `done()` or the deadline; true if done.
template <typename Done>
bool poll_until(Done done, std::chrono::milliseconds timeout) {
    const auto until = steady::now() + timeout;
    while (!done()) {
        if (steady::now() > until) return false;
        std::this_thread::sleep_for(5ms);
    }
    return true;
}

// How each receiver's refusal reads on stderr once it stopped (checks that the fake really
// filled its queue, or really went away).
bool refusal_as_expected(style s, const std::string &text) {
    if (s == style::openrc)
        return text.find("No such file or directory") != std::string::npos ||
               text.find("Connection refused") != std::string::npos;
    return text.find("Resource temporarily unavailable") != std::string::npos;
}

void run_against(style s) {
    constexpr auto outage = 2500ms;  // how long the service logs on after the receiver stopped
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    ready_only_receiver rx(s);
    test::stderr_capture err;  // errors_to_stderr, the default: what the journal would get
    dispatcher_options o;
    o.min_interval = 5ms;
    auto d =
        std::make_shared<dispatcher>(std::make_shared<spdlog_sdnotify::notifier>(rx.address()), o);
    spdlog_sdnotify::status_sink_config sc;
    sc.dispatcher = d;
    auto log = std::make_shared<spdlog::logger>(
        "app", std::make_shared<spdlog_sdnotify::status_sink_mt>(sc));
    const auto life = test::ready_on_listening(d, log);

    // The application: READY's record, then a status line every millisecond.
    std::atomic<bool> stop{false};
    std::atomic<long> records{0};
    std::atomic<long long> worst_ns{0};
    std::thread app([&] {
        log->info("listening on :8080");
        for (long i = 0; !stop; ++i) {
            const auto t0 = steady::now();
            log->info("request {} done", i);
            const long long ns =
                std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now() - t0).count();
            long long seen = worst_ns.load();
            while (ns > seen && !worst_ns.compare_exchange_weak(seen, ns)) {
            }
            ++records;
            std::this_thread::sleep_for(1ms);
        }
    });
    struct joiner {
        std::atomic<bool> &stop;
        std::thread &t;
        ~joiner() {
            stop = true;
            if (t.joinable()) t.join();
        }
    } join_app{stop, app};

    INFO(name_of(s) << " at " << rx.address());
    REQUIRE(rx.wait_for_ready(10s));
    INFO("it read " << rx.before_ready
                    << " datagram(s) before READY; READY as read: " << rx.ready_bytes);
    rx.after_ready();
    // The outage starts when a send first fails: at once for OpenRC, when the queue is full
    // (net.unix.max_dgram_qlen datagrams) for the others.
    REQUIRE(poll_until([&] { return d->stats().failures > 0; }, 20s));
    const auto failures_at_start = d->stats().failures;
    const long records_at_start = records.load();
    std::this_thread::sleep_for(300ms);  // the back-off reaches its steady state
    const auto heap_before = mallinfo2().uordblks;
    std::this_thread::sleep_for(outage - 300ms);
    const auto heap_after = mallinfo2().uordblks;
    const auto st = d->stats();
    const long outage_records = records.load() - records_at_start;
    const auto outage_failures = st.failures - failures_at_start;
    const long grown = static_cast<long>(heap_after) - static_cast<long>(heap_before);
    const auto errors_seen = err.count("spdlog_sdnotify: error:");
    const auto warnings_seen = err.count("spdlog_sdnotify: warning:");
    const long long worst_us = worst_ns.load() / 1000;
    std::printf(
        "%s: %ld records and %llu failed sends in the %lld ms outage (%llu before it); "
        "heap %+ld bytes; max_queued %llu; %zu error line(s), %zu warning line(s) on "
        "stderr; slowest log call %lld us\n",
        name_of(s), outage_records, static_cast<unsigned long long>(outage_failures),
        static_cast<long long>(outage.count()), static_cast<unsigned long long>(failures_at_start),
        grown, static_cast<unsigned long long>(st.max_queued), errors_seen, warnings_seen,
        worst_us);
    std::fflush(stdout);
    INFO(outage_records << " records, " << outage_failures << " failed sends in the outage; heap "
                        << heap_before << " -> " << heap_after << "; max_queued " << st.max_queued
                        << "; slowest log call " << worst_us << " us; stderr:\n"
                        << err.text());
    CHECK(st.lifecycle_sent == 1);  // READY, once
    CHECK(grown < 16384);           // nothing queues up behind a receiver that stopped
    CHECK(st.max_queued <= 1);
    // Backing off to one try a second: about 2.5 tries in 2.5 s (plus the doubling from 10 ms),
    // not one per record.
    CHECK(outage_failures <= 12);
    CHECK(outage_failures * 10 < static_cast<std::uint64_t>(outage_records));
    CHECK(errors_seen == 1);  // one diagnostic for the outage, not one per failure
    CHECK(refusal_as_expected(s, err.text()));
    CHECK(warnings_seen == 0);
    CHECK(worst_ns.load() < std::chrono::nanoseconds(50ms).count());

    if (s == style::runc || s == style::openrc) {
        // It reads again (runc) or is back at the same path (OpenRC): the newest status
        // arrives with the next try.
        stop = true;
        app.join();
        rx.resume();
        log->info("after the receiver came back");
        CHECK(rx.read_until_status("after the receiver came back", 5s));
        INFO(rx.after_resume << " datagram(s) read once back");
        CHECK(err.count("spdlog_sdnotify: error:") == 1);
    }
}

}  // namespace

TEST_CASE("ready_only_receiver_runc_stops_reading_after_ready", "[receivers][faults]") {
    run_against(style::runc);
}

TEST_CASE("ready_only_receiver_crun_stops_reading_after_ready", "[receivers][faults]") {
    run_against(style::crun);
}

TEST_CASE("ready_only_receiver_finit_reads_31_bytes_then_stops", "[receivers][faults]") {
    run_against(style::finit);
}

TEST_CASE("ready_only_receiver_openrc_unlinks_its_socket_after_ready", "[receivers][faults]") {
    run_against(style::openrc);
}

// With an on_error handler of its own the application hears of an outage once, however long it
// lasts (the failures meanwhile are counted into the next call's `suppressed`), and of the next
// outage again once a send got through in between.
TEST_CASE("ready_only_receiver_runc_with_on_error_hears_once_per_outage", "[receivers][faults]") {
    unsetenv("WATCHDOG_USEC");
    ready_only_receiver rx(style::runc);
    std::atomic<int> calls{0};
    dispatcher_options o;
    o.min_interval = 5ms;
    o.on_error = [&](std::error_code, std::string_view, std::uint64_t) { ++calls; };
    auto d =
        std::make_shared<dispatcher>(std::make_shared<spdlog_sdnotify::notifier>(rx.address()), o);
    spdlog_sdnotify::status_sink_config sc;
    sc.dispatcher = d;
    spdlog::logger log("app", std::make_shared<spdlog_sdnotify::status_sink_mt>(sc));
    REQUIRE(d->notifier()->ready().is_sent());
    REQUIRE(rx.wait_for_ready(5s));
    long i = 0;
    while (d->stats().failures == 0 && i < 20000) {  // until the queue is full
        log.info("request {} done", ++i);
        std::this_thread::sleep_for(1ms);
    }
    REQUIRE(d->stats().failures > 0);
    const auto t0 = steady::now();
    while (steady::now() - t0 < 3500ms) {
        log.info("request {} done", ++i);
        std::this_thread::sleep_for(1ms);
    }
    const auto failures = d->stats().failures;
    std::printf("runc with on_error: %d call(s) in 3.5 s of outage, %llu failed sends\n",
                calls.load(), static_cast<unsigned long long>(failures));
    std::fflush(stdout);
    CHECK(failures >= 3);  // the retries went on (about one a second)...
    CHECK(calls == 1);     // ...and the application heard of the outage once
    // The receiver reads again: sends get through; then it stops again, and that second outage
    // is said again.
    log.info("after the outage");
    REQUIRE(rx.read_until_status("after the outage", 5s));
    const auto before = d->stats().failures;
    const auto t1 = steady::now();
    while (d->stats().failures == before && steady::now() - t1 < 20s) {
        log.info("request {} done", ++i);
        std::this_thread::sleep_for(1ms);
    }
    REQUIRE(d->stats().failures > before);
    CHECK(poll_until([&] { return calls.load() == 2; }, 3s));
}
