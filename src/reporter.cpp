// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#include "reporter.h"

#include <errno.h>

#include <algorithm>
#include <utility>

#include "controls.h"
#include "stderr_report.h"

namespace spdlog_sdnotify {
namespace details {
namespace {
using steady = std::chrono::steady_clock;
}  // namespace

bool retryable(std::error_code ec) noexcept {
    if (ec.category() != std::system_category()) return false;
    switch (ec.value()) {
        case EAGAIN:
        case ENOBUFS:
        case ENOMEM:
        case EINTR:
        case ECONNREFUSED:
        case ECONNRESET:
        case ENOTCONN:
        case ENOENT:
        case EPIPE:
        case ETIMEDOUT:
        case EMFILE:
        case ENFILE:
            return true;
        default:
            return false;
    }
}

void reporter::report(std::error_code ec, std::string_view what) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++failures_;
    ++reports_waiting_;
    report_error_ = ec;
    report_what_.assign(what.data(), std::min<std::size_t>(what.size(), 200));
}

void reporter::diagnose(std::string what, std::error_code ec) {
    std::lock_guard<std::mutex> lock(mutex_);
    diagnostics_.push_back({ec, std::move(what)});
}

std::uint64_t reporter::failures() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return failures_;
}

// Counted on the logging thread, said here once per kind (dispatcher::stats().failures keeps
// counting).
bool reporter::count_callback_failures() {
    static constexpr const char *what[] = {"status_sink: the filter threw",
                                           "status_sink: the formatter threw",
                                           "lifecycle: a rule threw"};
    bool said = false;
    for (int i = 0; i < 3; ++i) {
        const std::uint64_t n = callback_failures_[i].load(std::memory_order_relaxed);
        if (n == callback_counted_[i]) continue;
        const bool first = callback_counted_[i] == 0;
        std::lock_guard<std::mutex> lock(mutex_);
        failures_ += n - callback_counted_[i];
        callback_counted_[i] = n;
        if (!first) continue;
        said = true;
        diagnostics_.push_back(
            {errc::callback_failed, std::string(what[i]) + " for " + std::to_string(n) +
                                        " record(s) so far (each one is counted in "
                                        "dispatcher::stats().failures, not said again)"});
    }
    return said;
}

void reporter::use(error_handler on_error, bool to_stderr) {
    on_error_ = std::move(on_error);
    to_stderr_ = to_stderr;
}

void reporter::deliver() {
    std::uint64_t waiting;
    std::error_code ec;
    std::string what;
    std::vector<diagnostic> diagnostics;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        waiting = std::exchange(reports_waiting_, 0);
        ec = report_error_;
        what = report_what_;
        diagnostics.swap(diagnostics_);
    }
    for (const auto &d : diagnostics) {
        if (on_error_) {
            try {
                on_error_(d.ec, d.what, 0);
            } catch (...) {
            }
        } else if (to_stderr_) {
            write_to_stderr(report_priority::warning, d.what);
        }
    }
    if (waiting == 0) return;
    suppressed_ += waiting - 1;
    emit(ec, what);
}

void reporter::failed(std::error_code ec, const char *what) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        ++failures_;
    }
    // Said once, not once a minute (once a second to on_error) for as long as it lasts: an
    // unusable NOTIFY_SOCKET (a bare fd number from finit 4.4-4.12, a relative path), which
    // never gets better, and a receiver that stopped reading (runc, crun, finit after READY) or
    // went away (OpenRC unlinks its socket), which may stay so for the process's life. The
    // failures meanwhile are counted into the next report's `suppressed`; a different error,
    // or the same one after a send got through, is said again.
    const bool address = ec && ec == notifier_.address_error();
    const bool once =
        address ? !controls_off().address_once : retryable(ec) && !controls_off().outage_once;
    if (once && ec == outage_) {
        ++suppressed_;
        return;
    }
    bool said = false;
    if (address) {
        try {
            said = emit(ec, "sending to NOTIFY_SOCKET=" +
                                std::string(notifier_.address_text().substr(0, 200)));
        } catch (...) {
        }
    } else {
        said = emit(ec, what);
    }
    if (once && said) outage_ = ec;
}

// To on_error at most once a second; without one, to stderr (where the journal keeps it) at
// most once a minute, so that a receiver gone for good does not fill the journal.
bool reporter::emit(std::error_code ec, std::string_view what) {
    const auto now = steady::now();
    const auto interval = on_error_ ? std::chrono::seconds(1) : std::chrono::seconds(60);
    if ((!on_error_ && !to_stderr_) ||
        (last_report_ != steady::time_point{} && now - last_report_ < interval)) {
        ++suppressed_;
        return false;
    }
    last_report_ = now;
    const std::uint64_t suppressed = std::exchange(suppressed_, 0);
    if (on_error_) {
        try {
            on_error_(ec, what, suppressed);
        } catch (...) {
        }
        return true;
    }
    try {
        write_to_stderr(report_priority::error, std::string(what) + ": " + ec.message() + " (" +
                                                    std::to_string(suppressed) +
                                                    " more since the last report)");
    } catch (...) {
    }
    return true;
}

}  // namespace details
}  // namespace spdlog_sdnotify
