// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#pragma once

#include <spdlog_sdnotify/dispatcher.h>
#include <spdlog_sdnotify/error.h>

#include <spdlog/details/null_mutex.h>
#include <spdlog/details/os.h>
#include <spdlog/details/synchronous_factory.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
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
    /// Records below this level are not forwarded (the sink's own level; the logger's still
    /// applies first).
    spdlog::level::level_enum level = spdlog::level::info;
    /// Optional extra selection, on the logging thread: return true to forward the record
    /// (look at msg.logger_name, msg.level, msg.payload). Keep it cheap.
    std::function<bool(const spdlog::details::log_msg &)> filter;
    /// Records at or above this level hold the status for dispatcher_options::sticky_for, so
    /// that an error stays visible; spdlog::level::off disables it.
    spdlog::level::level_enum sticky_level = spdlog::level::err;
    /// Empty: the raw payload. Otherwise a spdlog pattern for the text, e.g. "[%l] %v"
    /// (the same as calling set_pattern() on the sink).
    std::string pattern;
    /// Where to send; null means the process-wide dispatcher::default_instance().
    std::shared_ptr<dispatcher> target;
};

/**
 * Sink that makes selected log records the service's STATUS= line (`systemctl status`).
 *
 * The logging thread only copies the text into this sink's latest-wins slot, under the lock
 * spdlog already takes: no syscall, no allocation, no other lock, no waiting on systemd. The
 * dispatcher's thread sanitises, redacts, coalesces and rate-limits. The raw payload is sent by
 * default; set_pattern("[%l] %v") on this sink sends the formatted line instead (never colour
 * codes). Patterns that spdlog spreads to every sink (spdlog::set_pattern(), logger->set_pattern())
 * are for the console and files, and leave the status text alone. Outside systemd a record costs
 * one branch. flush() (logger->flush(), flush_on()) sends nothing and never waits, so
 * flush_on(info) keeps the rate limit: the newest text always leaves within min_interval. To wait
 * for it, use dispatcher::flush(); spdlog::shutdown() and the destruction of the last status sink
 * wait for it (bounded).
 *
 *     auto sink = std::make_shared<spdlog_sdnotify::status_sink_mt>();
 *     logger->sinks().push_back(sink);            // or spdlog_sdnotify::attach(logger)
 */
namespace details {
// Guards a _st sink's slot against the dispatcher's thread (spdlog's null_mutex does not).
class spin_lock {
public:
    void lock() noexcept {
        while (flag_.test_and_set(std::memory_order_acquire)) std::this_thread::yield();
    }
    void unlock() noexcept { flag_.clear(std::memory_order_release); }

private:
    std::atomic_flag flag_ = ATOMIC_FLAG_INIT;
};
struct no_lock {
    void lock() noexcept {}
    void unlock() noexcept {}
};
}  // namespace details

template <typename Mutex>
class status_sink final : public spdlog::sinks::base_sink<Mutex>, private details::status_source {
public:
    explicit status_sink(status_sink_config config = {})
        : dispatcher_(config.target ? std::move(config.target) : dispatcher::default_instance()),
          filter_(std::move(config.filter)),
          sticky_level_(config.sticky_level) {
        this->set_level(config.level);
        if (!config.pattern.empty()) set_pattern_(config.pattern);
        if (dispatcher_->enabled()) {
            slot_.reserve();
            details::dispatcher_access::add_source(*dispatcher_, this);
        }
    }
    /// Hands a pending text to the dispatcher; when this was its last sink (spdlog::shutdown()),
    /// waits until it is sent, at most about 250 ms.
    ~status_sink() override { details::dispatcher_access::remove_source(*dispatcher_, this); }
    status_sink(const status_sink &) = delete;
    status_sink &operator=(const status_sink &) = delete;

    const std::shared_ptr<dispatcher> &get_dispatcher() const noexcept { return dispatcher_; }

protected:
    void sink_it_(const spdlog::details::log_msg &msg) override {
        if (!dispatcher_->enabled()) return;  // not under systemd
        try {
            if (filter_ && !filter_(msg)) return;
            std::string_view text(msg.payload.data(), msg.payload.size());
            if (formatter_) {
                formatted_.clear();
                formatter_->format(msg, formatted_);
                text = std::string_view(formatted_.data(), formatted_.size());
                // The pattern's line ending would become a trailing space in StatusText.
                while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
                    text.remove_suffix(1);
            }
            {
                // The slot is guarded by the lock base_sink already holds (for _mt); a _st
                // sink adds a spin lock, since the dispatcher's thread reads it too.
                std::lock_guard<slot_lock_type> lock(slot_lock_);
                slot_.put(text, msg.level >= sticky_level_, msg.time);
            }
            details::dispatcher_access::source_changed(*dispatcher_);
        } catch (...) {
            // Never into spdlog's error handler, and never an exception into the logger.
            dispatcher_->report(errc::callback_failed, "status_sink: filter or formatter threw");
        }
    }

    void flush_() override {}

    // Our own formatter, set only through this sink's set_pattern(): the base class's one is
    // overwritten whenever spdlog applies a global or per-logger pattern.
    void set_pattern_(const std::string &pattern) override {
        formatter_ = std::make_unique<spdlog::pattern_formatter>(pattern);
    }

private:
    static constexpr bool unlocked = std::is_same<Mutex, spdlog::details::null_mutex>::value;
    using slot_lock_type = std::conditional_t<unlocked, details::spin_lock, details::no_lock>;

    // status_source: called by the dispatcher's thread.
    bool pull(details::status_slot &into, std::uint64_t &seen) override {
        std::lock_guard<Mutex> base_lock(spdlog::sinks::base_sink<Mutex>::mutex_);
        std::lock_guard<slot_lock_type> lock(slot_lock_);
        if (slot_.seq == seen) return false;
        into.latest.assign(slot_.latest);
        into.latest_time = slot_.latest_time;
        into.sticky.assign(slot_.sticky);
        into.sticky_time = slot_.sticky_time;
        into.has_sticky = slot_.has_sticky;
        into.seq = slot_.seq;
        into.sticky_seq = slot_.sticky_seq;
        seen = slot_.seq;
        return true;
    }
    void lock_for_fork() override {
        spdlog::sinks::base_sink<Mutex>::mutex_.lock();
        slot_lock_.lock();
    }
    void unlock_after_fork() override {
        slot_lock_.unlock();
        spdlog::sinks::base_sink<Mutex>::mutex_.unlock();
    }
    std::uint64_t posted() override {
        std::lock_guard<Mutex> base_lock(spdlog::sinks::base_sink<Mutex>::mutex_);
        std::lock_guard<slot_lock_type> lock(slot_lock_);
        return slot_.seq;
    }

    details::status_slot slot_;
    slot_lock_type slot_lock_;
    std::shared_ptr<dispatcher> dispatcher_;
    std::function<bool(const spdlog::details::log_msg &)> filter_;
    spdlog::level::level_enum sticky_level_;
    std::unique_ptr<spdlog::formatter> formatter_;
    spdlog::memory_buf_t formatted_;
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
