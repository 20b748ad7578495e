// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#pragma once

// The rule set: which of the configured rules a record is tested against in the current state,
// and what a match asks for. No thread, no dispatcher: the answers go to `Actions`, so that the
// rules are tested with a recorder.

#include <spdlog_sdnotify/lifecycle.h>

#include <string_view>

#include "lifecycle_link.h"
#include "lifecycle_settings.h"

namespace spdlog_sdnotify {
namespace details {

class lifecycle_rules {
public:
    explicit lifecycle_rules(const lifecycle_settings &settings) noexcept : settings_(settings) {}

    // `Actions` has progress(), alive(), ready(text), reloading(text), stopping(text) and
    // failure(msg); they are called in that order, each as soon as its rule matched, so that a
    // rule that throws leaves the earlier actions done.
    template <typename Actions>
    void apply(const spdlog::details::log_msg &msg, service_state s, Actions &act) const {
        const lifecycle_config &c = settings_.config();
        const std::string_view text(msg.payload.data(), msg.payload.size());
        // Every record during start-up and shutdown is progress: it earns the next timeout
        // extension.
        if ((s == service_state::starting || s == service_state::stopping) &&
            (!c.progress_when || c.progress_when->matches(msg)))
            act.progress();
        if (c.alive_when && c.alive_when->matches(msg)) act.alive();
        switch (s) {
            case service_state::starting:
                if (c.ready_when && c.ready_when->matches(msg)) act.ready(text);
                break;
            case service_state::ready:
                if (settings_.reloads() && c.reloading_when && c.reloading_when->matches(msg))
                    act.reloading(text);
                break;
            case service_state::reloading:
                if (c.reloaded_when && c.reloaded_when->matches(msg)) act.ready(text);
                break;
            case service_state::stopping:
                break;
        }
        // The state read above (the stopping transition's compare-and-swap refuses a second
        // STOPPING).
        if (c.stopping_when && s != service_state::stopping && c.stopping_when->matches(msg))
            act.stopping(text);
        if (c.failure_when && c.failure_when->matches(msg)) act.failure(msg);
    }

private:
    const lifecycle_settings &settings_;
};

}  // namespace details
}  // namespace spdlog_sdnotify
