// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#pragma once

// The rule set: which of the configured rules a record is tested against in the current state,
// and what a match asks for. No thread, no dispatcher: the answers go to `Actions`, so that the
// rules are tested with a recorder.
//
// Every record of the process passes here, so each state's rules are listed once, at set-up,
// with the lowest level any of them accepts (most records stop there or at a rule's level).
// Each rule tests its own text (text_test: a literal's search table or a regex, prepared once).

#include <spdlog_sdnotify/lifecycle.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <string_view>

#include "lifecycle_link.h"
#include "lifecycle_settings.h"
#include "text_test.h"

namespace spdlog_sdnotify {
namespace details {

struct rule_access {
    static const text_test *text(const rule &r) noexcept { return r.text_.get(); }
    static const text_test *text(const std::optional<rule> &r) noexcept {
        return r ? text(*r) : nullptr;
    }
    static const std::optional<std::string> &logger(const rule &r) noexcept { return r.logger_; }
    static const std::function<bool(const spdlog::details::log_msg &)> &predicate(
        const rule &r) noexcept {
        return r.predicate_;
    }
};

// A rule's tests, in their order: level and logger first, then the text (`text_found`, asked
// only if those passed), then the application's predicate. rule::matches() and the states'
// lists below both ask this, so that a rule means the same on either path.
template <typename TextFound>
bool rule_passes(const spdlog::details::log_msg &msg, spdlog::level::level_enum at_least,
                 const std::string *logger,
                 const std::function<bool(const spdlog::details::log_msg &)> *predicate,
                 TextFound text_found) {
    if (msg.level < at_least) return false;
    if (logger != nullptr &&
        std::string_view(msg.logger_name.data(), msg.logger_name.size()) != *logger)
        return false;
    if (!text_found()) return false;
    return predicate == nullptr || (*predicate)(msg);
}

class lifecycle_rules {
public:
    explicit lifecycle_rules(const lifecycle_settings &settings) {
        const lifecycle_config &c = settings.config();
        for (const lifecycle::state s : {lifecycle::state::starting, lifecycle::state::ready,
                                         lifecycle::state::reloading, lifecycle::state::stopping}) {
            plan &p = plans_[static_cast<unsigned>(s)];
            // Every record during start-up and shutdown is progress: it earns the next timeout
            // extension.
            if (s == lifecycle::state::starting || s == lifecycle::state::stopping) {
                if (c.progress_when)
                    p.add(action::progress, *c.progress_when);
                else
                    p.add_always(action::progress);
            }
            if (c.alive_when) p.add(action::alive, *c.alive_when);
            if (s == lifecycle::state::starting && c.ready_when)
                p.add(action::ready, *c.ready_when);
            if (s == lifecycle::state::ready && settings.reloads() && c.reloading_when)
                p.add(action::reloading, *c.reloading_when);
            if (s == lifecycle::state::reloading && c.reloaded_when)
                p.add(action::ready, *c.reloaded_when);
            // A failed reload is answered by READY=1 too, with the record's text: the service
            // goes on with the configuration it had.
            if (s == lifecycle::state::reloading && c.reload_failed_when)
                p.add(action::ready, *c.reload_failed_when);
            // Not while stopping (the stopping transition's compare-and-swap would refuse a
            // second STOPPING anyway).
            if (s != lifecycle::state::stopping && c.stopping_when)
                p.add(action::stopping, *c.stopping_when);
            if (c.failure_when) p.add(action::failure, *c.failure_when);
        }
    }

    // `Actions` has progress(), alive(), ready(text), reloading(text), stopping(text) and
    // failure(msg); they are called in that order, each as soon as its rule matched, so that a
    // rule that throws leaves the earlier actions done.
    template <typename Actions>
    void apply(const spdlog::details::log_msg &msg, lifecycle::state s, Actions &act) const {
        const plan &p = plans_[static_cast<unsigned>(s)];
        if (msg.level < p.lowest_level) return;
        const std::string_view text(msg.payload.data(), msg.payload.size());
        for (std::size_t i = 0; i < p.count; ++i) {
            const test &t = p.all[i];
            const bool passes = rule_passes(msg, t.at_least, t.logger, t.predicate, [&] {
                return t.text == nullptr || t.text->found_in(text);
            });
            if (!passes) continue;
            switch (t.what) {
                case action::progress:
                    act.progress();
                    break;
                case action::alive:
                    act.alive();
                    break;
                case action::ready:
                    act.ready(text);
                    break;
                case action::reloading:
                    act.reloading(text);
                    break;
                case action::stopping:
                    act.stopping(text);
                    break;
                case action::failure:
                    act.failure(msg);
                    break;
            }
        }
    }

private:
    enum class action : std::uint8_t { progress, alive, ready, reloading, stopping, failure };
    // One rule as a state tests it. Points into the settings' rules, which outlive this.
    struct test {
        action what;
        spdlog::level::level_enum at_least = spdlog::level::trace;
        const std::string *logger = nullptr;
        const text_test *text = nullptr;
        const std::function<bool(const spdlog::details::log_msg &)> *predicate = nullptr;
    };
    // The rules of one state: at most five (progress, alive, its own one or two, stopping,
    // failure).
    struct plan {
        spdlog::level::level_enum lowest_level = spdlog::level::off;  // off: no test at all
        std::size_t count = 0;
        std::array<test, 5> all;

        void add_always(action what) {
            all[count++] = test{what};
            lowest_level = spdlog::level::trace;
        }
        void add(action what, const rule &r) {
            test t{what};
            t.at_least = r.at_least();
            if (const auto &name = rule_access::logger(r)) t.logger = &*name;
            t.text = rule_access::text(r);
            if (const auto &p = rule_access::predicate(r)) t.predicate = &p;
            all[count++] = t;
            lowest_level = std::min(lowest_level, t.at_least);
        }
    };
    std::array<plan, 4> plans_;
};

}  // namespace details
}  // namespace spdlog_sdnotify
