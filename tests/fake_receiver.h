// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#pragma once

// A notify socket in the test process that parses what it gets as PID 1 does and keeps what
// systemctl would show (StatusText, ActiveState).

#include <spdlog_sdnotify/dispatcher.h>
#include <spdlog_sdnotify/lifecycle.h>
#include <spdlog_sdnotify/receiver.h>

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace test {

class fake_receiver {
public:
    enum class kind { path, abstract };

    explicit fake_receiver(kind k = kind::path) {
        static std::atomic<int> counter{0};
        const int n = counter++;
        if (k == kind::path) {
            char tmpl[] = "/tmp/sdnotify-test-XXXXXX";
            if (mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
            dir_ = tmpl;
            address_ = dir_ + "/notify";
        } else {
            address_ =
                "@spdlog_sdnotify-test-" + std::to_string(getpid()) + "-" + std::to_string(n);
        }
        open();
    }
    ~fake_receiver() {
        receiver_.reset();
        if (!dir_.empty()) rmdir(dir_.c_str());
    }

    const std::string &address() const { return address_; }
    /// Sets NOTIFY_SOCKET to this receiver (each test case runs in its own process).
    void export_env() const { setenv("NOTIFY_SOCKET", address_.c_str(), 1); }

    /// The next datagram as PID 1 parses it, applied to the model; nullopt on timeout.
    std::optional<spdlog_sdnotify::parsed_notification> next(
        std::chrono::milliseconds timeout = std::chrono::seconds(2)) {
        std::optional<spdlog_sdnotify::notify_receiver::datagram> d;
        const auto until = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            // Never negative: poll() would read that as "wait forever".
            const auto left = std::max(std::chrono::steady_clock::duration::zero(),
                                       until - std::chrono::steady_clock::now());
            d = receiver_->receive(std::chrono::duration_cast<std::chrono::milliseconds>(left));
            if (!d) return std::nullopt;
            // PID 1 answers a barrier by closing its descriptor (the kernel did so when the
            // datagram was read without room for it); it changes nothing that systemctl shows.
            if (d->bytes != "BARRIER=1\n") break;
            ++barriers;
        }
        raw.push_back(d->bytes);
        senders.push_back(d->sender_pid);
        auto parsed = spdlog_sdnotify::parse_notification(d->bytes, d->truncated);
        model.apply(parsed);
        return parsed;
    }

    /// Reads until nothing arrives for `quiet`; returns how many datagrams came.
    std::size_t drain(std::chrono::milliseconds quiet = std::chrono::milliseconds(200)) {
        std::size_t n = 0;
        while (next(quiet)) ++n;
        return n;
    }

    /// Closes the socket (and unlinks the path): the receiver "goes away".
    void close() { receiver_.reset(); }
    void open() {
        std::error_code ec;
        receiver_ = std::make_unique<spdlog_sdnotify::notify_receiver>(address_, ec);
        if (ec) throw std::runtime_error("cannot bind " + address_ + ": " + ec.message());
    }

    spdlog_sdnotify::service_model model;
    std::vector<std::string> raw;  // every datagram's bytes, in order
    std::vector<pid_t> senders;    // the sender PID of each, from SCM_CREDENTIALS
    std::size_t barriers = 0;      // BARRIER=1 datagrams (not in raw)

private:
    std::string dir_;
    std::string address_;
    std::unique_ptr<spdlog_sdnotify::notify_receiver> receiver_;
};

/// A dispatcher of its own that sends to `rx` (not the process-wide one).
inline std::shared_ptr<spdlog_sdnotify::dispatcher> dispatcher_to(
    const fake_receiver &rx, spdlog_sdnotify::dispatcher_options options = {}) {
    return std::make_shared<spdlog_sdnotify::dispatcher>(
        std::make_shared<spdlog_sdnotify::notifier>(rx.address()), std::move(options));
}

/// The lifecycle of an application under a receiver test: READY=1 on its "listening" record, no
/// watchdog, on `log` only (not every registered logger), sending through `d`.
inline std::unique_ptr<spdlog_sdnotify::lifecycle> ready_on_listening(
    const std::shared_ptr<spdlog_sdnotify::dispatcher> &d,
    const std::shared_ptr<spdlog::logger> &log) {
    spdlog_sdnotify::lifecycle_config lc;
    lc.dispatcher = d;
    lc.attach_to_all = false;
    lc.watchdog = false;
    lc.ready_when = spdlog_sdnotify::rule::contains("listening");
    auto life = std::make_unique<spdlog_sdnotify::lifecycle>(lc);
    life->attach(log);
    return life;
}

/// What the process writes to stderr (fd 2) while it lives, for counting the diagnostics an
/// operator would see in the journal; text() may be read at any time.
class stderr_capture {
public:
    stderr_capture() {
        char tmpl[] = "/tmp/sdnotify-stderr-XXXXXX";
        fd_ = mkstemp(tmpl);
        if (fd_ < 0) throw std::runtime_error("mkstemp failed");
        path_ = tmpl;
        std::fflush(stderr);
        saved_ = dup(2);
        dup2(fd_, 2);
    }
    ~stderr_capture() {
        std::fflush(stderr);
        dup2(saved_, 2);
        ::close(saved_);
        ::close(fd_);
        unlink(path_.c_str());
    }
    stderr_capture(const stderr_capture &) = delete;
    stderr_capture &operator=(const stderr_capture &) = delete;

    std::string text() const {
        std::fflush(stderr);
        std::string out;
        char buf[4096];
        for (off_t at = 0;;) {
            const ssize_t n = pread(fd_, buf, sizeof buf, at);
            if (n <= 0) break;
            out.append(buf, static_cast<std::size_t>(n));
            at += n;
        }
        return out;
    }
    /// Lines that contain `needle`.
    std::size_t count(const std::string &needle) const {
        const std::string t = text();
        std::size_t n = 0;
        for (std::size_t at = 0; (at = t.find(needle, at)) != std::string::npos;
             at += needle.size())
            ++n;
        return n;
    }

private:
    int fd_ = -1;
    int saved_ = -1;
    std::string path_;
};

}  // namespace test
