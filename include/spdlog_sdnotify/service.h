// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#pragma once

#include <spdlog_sdnotify/lifecycle.h>
#include <spdlog_sdnotify/status_sink.h>

#include <memory>
#include <optional>
#include <utility>

namespace spdlog_sdnotify {

/// What `service` sets up: the status text and the lifecycle, on one dispatcher.
struct service_config {
    /// Options of default_notifier(), if nothing made it before the service.
    std::optional<notifier_options> notifier;
    /// Which records become STATUS= (level, filter, pattern, sticky errors).
    status_sink_config status;
    /// Rules, signals, watchdog; attach_to_all puts the one sink on every registered logger.
    lifecycle_config lifecycle;
};

/**
 * The common case in one object: a status sink and a lifecycle that share one sink on each
 * logger (a record is looked at once, by the lifecycle's rules, then becomes the status text).
 * Keep it alive as long as main().
 *
 *     spdlog_sdnotify::service notify({
 *         .lifecycle = {.ready_when = spdlog_sdnotify::rule::contains("listening on"),
 *                       .stop_on_signals = true},
 *     });                                     // C++20; in C++17 fill a service_config first
 */
class service {
public:
    explicit service(service_config config = {});
    service(const service &) = delete;
    service &operator=(const service &) = delete;

    /// Adds the one sink to a logger made later (attach_to_all covers those that exist).
    void attach(const std::shared_ptr<spdlog::logger> &logger) const { lifecycle_->attach(logger); }

    spdlog_sdnotify::lifecycle &lifecycle() noexcept { return *lifecycle_; }
    const std::shared_ptr<status_sink_mt> &status_sink() const noexcept { return status_; }

private:
    std::shared_ptr<status_sink_mt> status_;
    std::unique_ptr<spdlog_sdnotify::lifecycle> lifecycle_;
};

inline service::service(service_config config) {
    if (config.notifier) (void)set_default_notifier_options(*config.notifier);
    // One dispatcher for both: the lifecycle's messages go before the status they carry.
    if (!config.lifecycle.dispatcher) config.lifecycle.dispatcher = config.status.dispatcher;
    if (!config.status.dispatcher) config.status.dispatcher = config.lifecycle.dispatcher;
    status_ = std::make_shared<status_sink_mt>(std::move(config.status));
    lifecycle_ = std::make_unique<spdlog_sdnotify::lifecycle>(std::move(config.lifecycle), status_);
}

}  // namespace spdlog_sdnotify
