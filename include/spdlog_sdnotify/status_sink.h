// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#pragma once

#include <spdlog_sdnotify/dispatcher.h>
#include <spdlog_sdnotify/details/status_cells.h>
#include <spdlog_sdnotify/error.h>

#include <spdlog/details/null_mutex.h>
#include <spdlog/details/os.h>
#include <spdlog/details/synchronous_factory.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>

namespace spdlog_sdnotify {

/// What a status sink forwards, and where.
struct status_sink_config {
    /// The sink's own level; the logger's applies first.
    spdlog::level::level_enum level = spdlog::level::info;
    /// Optional extra selection, on the logging thread (keep it cheap): true forwards the record.
    std::function<bool(const spdlog::details::log_msg &)> filter;
    /// Empty: the raw payload. Otherwise a spdlog pattern for the text, e.g. "[%l] %v".
    std::string pattern;
    /// Whether set_formatter() applies. spdlog calls it on every sink for the logger's and the
    /// global pattern, which are meant for the console and files (timestamps, colours); off, the
    /// status keeps the raw payload or its own `pattern`.
    bool follow_logger_pattern = false;
    /// Where to send; null means dispatcher::default_instance().
    std::shared_ptr<spdlog_sdnotify::dispatcher> dispatcher;
    /// Follows the newest line with counts and the last error, e.g.
    /// `listening on :8080 · 2 errors, 5 warnings in 5 min, last error at 14:02:11: db1 down`.
    /// Errors are records at or above dispatcher_options::sticky_level, warnings the others at
    /// warn. Composed on the dispatcher's thread when a record changes the status anyway: the
    /// summary never sends a STATUS by itself, so its counts are those of the window before
    /// the newest line, and the last error carries its time of day rather than an age.
    bool summary = false;
    /// The window the summary counts over.
    std::chrono::seconds summary_window{std::chrono::minutes(5)};
};

/**
 * Sink that makes selected log records the service's STATUS= line (`systemctl status`).
 *
 * The logging thread claims one of the sink's 16 latest-wins cells with one compare-and-swap,
 * copies the text into it and numbers it (one fetch_add on a process-wide counter: the newest
 * text is the one published last, whatever the records' clock says): no lock shared between loggers
 * (spdlog's base_sink mutex is not used), no syscall unless the dispatcher's thread sleeps, no
 * allocation, no waiting on systemd, so loggers that share the sink do not serialise on it. Only
 * when 16 threads write at the same moment does another one yield until a cell is free; after a
 * pattern change, each cell clones it once under a mutex. The dispatcher's thread sends the newest
 * text, coalesced and rate-limited. The raw payload is sent unless this sink has a pattern of its
 * own (set_pattern("[%l] %v")); the patterns spdlog spreads to every sink are ignored unless
 * status_sink_config::follow_logger_pattern. flush() sends nothing and never waits, so
 * flush_on(info) keeps the rate limit; dispatcher::flush() waits, as do spdlog::shutdown() and the
 * destruction of the last status sink (bounded).
 *
 * `status_sink_st` is for one logging thread at a time, as spdlog's _st sinks (a single cell).
 *
 *     auto sink = std::make_shared<spdlog_sdnotify::status_sink_mt>();
 *     logger->sinks().push_back(sink);            // or spdlog_sdnotify::attach(logger)
 */
template <typename Mutex>
class status_sink final : public spdlog::sinks::sink, private details::status_source {
public:
    explicit status_sink(status_sink_config config = {})
        : dispatcher_(config.dispatcher ? std::move(config.dispatcher)
                                        : spdlog_sdnotify::dispatcher::default_instance()),
          target_(dispatcher_->enabled() ? dispatcher_.get() : nullptr),
          follow_logger_pattern_(config.follow_logger_pattern),
          summary_(config.summary),
          sticky_level_(details::dispatcher_access::sticky_level(*dispatcher_)),
          order_(details::status_order()),
          filter_(std::move(config.filter)),
          summary_window_(config.summary ? std::max(config.summary_window, std::chrono::seconds(1))
                                         : std::chrono::seconds(0)) {
        this->set_level(config.level);
        if (!config.pattern.empty()) set_pattern(config.pattern);
        if (target_ != nullptr) {
            cells_.reserve();
            details::dispatcher_access::add_source(*dispatcher_, this);
        }
    }
    /// Hands a pending text to the dispatcher; when this was its last sink (spdlog::shutdown()),
    /// waits until it is sent, at most about 250 ms.
    ~status_sink() override { details::dispatcher_access::remove_source(*dispatcher_, this); }
    status_sink(const status_sink &) = delete;
    status_sink &operator=(const status_sink &) = delete;

    const std::shared_ptr<spdlog_sdnotify::dispatcher> &dispatcher() const noexcept {
        return dispatcher_;
    }
    /// should_log() without a call into the compiled spdlog (for a sink that forwards to this).
    bool accepts(spdlog::level::level_enum level) const noexcept {
        return level >= level_.load(std::memory_order_relaxed);
    }

    void log(const spdlog::details::log_msg &msg) override {
        if (target_ == nullptr) return;  // not under systemd
        details::status_cell *cell = nullptr;
        auto failed = details::callback::filter;
        SPDLOG_TRY {
            if (filter_ && !filter_(msg)) return;
            failed = details::callback::formatter;
            cell = cells_.acquire(one_writer);
            std::string_view text(msg.payload.data(), msg.payload.size());
            if (const auto generation = pattern_generation_.load(std::memory_order_acquire)) {
                if (cell->formatter_generation != generation) {
                    std::lock_guard<std::mutex> lock(pattern_mutex_);
                    cell->formatter = pattern_->clone();
                    cell->formatter_generation = generation;
                }
                cell->formatted.clear();
                cell->formatter->format(msg, cell->formatted);
                text = std::string_view(cell->formatted.data(), cell->formatted.size());
                // A followed logger pattern ends in its eol (ours has none): it would become a
                // trailing space in StatusText.
                while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
                    text.remove_suffix(1);
            }
            const bool error = msg.level >= sticky_level_.load(std::memory_order_relaxed);
            if (summary_)
                details::status_cells::count(*cell, error, msg.level == spdlog::level::warn);
            details::status_cells::publish(*cell, text, error, msg.time, order_);
            cell = nullptr;
            details::dispatcher_access::source_changed(*target_);
        }
        SPDLOG_SDNOTIFY_CATCH_ALL {
            // Never into spdlog's error handler, and never an exception into the logger. Counted,
            // not reported: a callback that throws for every record would otherwise cost a lock
            // and a wake-up (a syscall) per record; the dispatcher's thread says it once.
            if (cell != nullptr) details::status_cells::abandon(*cell);
            details::dispatcher_access::callback_failed(*target_, failed);
        }
    }

    void flush() override {}

    /// This sink's own pattern for the status text (e.g. "[%l] %v"); rare, at set-up.
    void set_pattern(const std::string &pattern) override {
        set_formatter_now(std::make_unique<spdlog::pattern_formatter>(
            pattern, spdlog::pattern_time_type::local, std::string()));
    }
    /// Applies only with status_sink_config::follow_logger_pattern: spdlog calls this for every
    /// logger->set_pattern() and spdlog::set_pattern(), which are for the console and files.
    void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override {
        if (follow_logger_pattern_ && formatter) set_formatter_now(std::move(formatter));
    }

private:
    static constexpr bool one_writer = std::is_same<Mutex, spdlog::details::null_mutex>::value;

    // Each cell clones it on its next record (a generation tells it that it changed).
    void set_formatter_now(std::unique_ptr<spdlog::formatter> formatter) {
        std::lock_guard<std::mutex> lock(pattern_mutex_);
        pattern_ = std::move(formatter);
        pattern_generation_.fetch_add(1, std::memory_order_release);
    }

    // status_source: called by the dispatcher's thread.
    bool pull(details::status_slot &into, std::uint64_t &seen) override {
        into.summary_window = summary_window_;
        return cells_.pull(into, seen);
    }
    std::uint64_t posted() override { return cells_.published(); }

    // What every record reads comes first, together (one or two cache lines), then the cells.
    std::shared_ptr<spdlog_sdnotify::dispatcher> dispatcher_;
    spdlog_sdnotify::dispatcher
        *const target_;  // dispatcher_, when it is enabled (one load per record, not two)
    const bool follow_logger_pattern_;
    const bool summary_;
    const std::atomic<spdlog::level::level_enum> &sticky_level_;  // the dispatcher's
    std::atomic<std::uint64_t> &order_;                           // details::status_order()
    std::atomic<std::uint64_t> pattern_generation_{0};
    std::function<bool(const spdlog::details::log_msg &)> filter_;
    const std::chrono::seconds summary_window_;
    details::status_cells cells_;
    std::mutex pattern_mutex_;
    std::unique_ptr<spdlog::formatter> pattern_;
};

using status_sink_mt = status_sink<std::mutex>;
using status_sink_st = status_sink<spdlog::details::null_mutex>;

/**
 * Adds a status sink to a logger the application already has; returns the sink. Call it at
 * set-up, before the logger is used from other threads (spdlog's sink list is not locked).
 *
 *     spdlog_sdnotify::attach(spdlog::default_logger());
 */
inline std::shared_ptr<status_sink_mt> attach(const std::shared_ptr<spdlog::logger> &logger,
                                              status_sink_config config = {}) {
    auto sink = std::make_shared<status_sink_mt>(std::move(config));
    logger->sinks().push_back(sink);
    return sink;
}

/**
 * Adds one status sink to every registered logger, the default logger included (loggers made
 * later are not covered: attach() those). Returns the sink.
 *
 *     spdlog_sdnotify::attach_all();
 */
inline std::shared_ptr<status_sink_mt> attach_all(status_sink_config config = {}) {
    auto sink = std::make_shared<status_sink_mt>(std::move(config));
    auto add = [&sink](const std::shared_ptr<spdlog::logger> &logger) {
        if (!logger) return;
        auto &sinks = logger->sinks();
        if (std::find(sinks.begin(), sinks.end(), sink) == sinks.end()) sinks.push_back(sink);
    };
    spdlog::apply_all(add);
    add(spdlog::default_logger());
    return sink;
}

/**
 * A logger whose only sink is a status sink, made and registered by `Factory` (pass
 * spdlog::async_factory for an async logger).
 *
 *     auto status = spdlog_sdnotify::status_logger_mt("status");
 *     status->info("warming caches");
 */
template <typename Factory = spdlog::synchronous_factory>
inline std::shared_ptr<spdlog::logger> status_logger_mt(const std::string &logger_name,
                                                        status_sink_config config = {}) {
    return Factory::template create<status_sink_mt>(logger_name, std::move(config));
}

template <typename Factory = spdlog::synchronous_factory>
inline std::shared_ptr<spdlog::logger> status_logger_st(const std::string &logger_name,
                                                        status_sink_config config = {}) {
    return Factory::template create<status_sink_st>(logger_name, std::move(config));
}

}  // namespace spdlog_sdnotify
