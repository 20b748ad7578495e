// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#pragma once

// The lifecycle's configuration, validated once at construction and read-only after it: a
// reload that nothing would end refused.

#include <spdlog_sdnotify/lifecycle.h>

#include <utility>

namespace spdlog_sdnotify {
namespace details {

class lifecycle_settings {
public:
    explicit lifecycle_settings(lifecycle_config config) : config_(std::move(config)) {
        // A reload that nothing ends would leave the unit "reloading" for good.
        reloads_ = !((config_.reload_on_sighup || config_.reloading_when) &&
                     !config_.reloaded_when && !config_.ready_after_sighup_handler);
    }

    const lifecycle_config &config() const noexcept { return config_; }
    // False: reload_on_sighup/reloading_when are refused (no way back to READY).
    bool reloads() const noexcept { return reloads_; }
    // Signals or exit() are this lifecycle's to handle.
    bool wants_signals_or_exit() const noexcept {
        return config_.stop_on_signals || config_.reload_on_sighup || config_.stop_at_exit;
    }

private:
    lifecycle_config config_;
    bool reloads_ = true;
};

}  // namespace details
}  // namespace spdlog_sdnotify
