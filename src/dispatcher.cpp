// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#include <spdlog_sdnotify/dispatcher.h>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <utility>
#include <vector>

#include "controls.h"
#include "lifecycle_link.h"
#include "sender.h"

namespace spdlog_sdnotify {
namespace details {
namespace {

// Hands a request to the sender `s` (null: none, or a forked child); one that cannot be queued
// (out of memory) is reported, not thrown.
template <typename Call>
void ask(dispatcher &d, sender *s, const char *lost, Call &&call) noexcept {
    if (s == nullptr) return;
    try {
        call(*s);
    } catch (...) {
        d.report(std::make_error_code(std::errc::not_enough_memory), lost);
    }
}

}  // namespace

// ---------------------------------------------------------------------------- lifecycle_link

std::uint64_t lifecycle_link::transition(dispatcher &d, unsigned from_mask,
                                         lifecycle::state to) noexcept {
    // Also outside systemd: the lifecycle's state machine works, nothing is sent.
    std::uint64_t word = d.state_word_.load();
    for (;;) {
        const auto current = static_cast<lifecycle::state>(word & 3U);
        if ((from_mask & state_bit(current)) == 0) return 0;
        const std::uint64_t ticket = (word >> 2) + 1;
        if (d.state_word_.compare_exchange_weak(word, (ticket << 2) | static_cast<unsigned>(to)))
            return ticket;
    }
}
void lifecycle_link::post(dispatcher &d, std::uint64_t ticket, message m) noexcept {
    // A lost one leaves its ticket missing (later messages wait for it ≤ 100 ms): not silently.
    ask(d, d.live(), "queueing a lifecycle message (it is lost)",
        [&](sender &s) { s.post(ticket, std::move(m)); });
}
bool lifecycle_link::final_delivery(dispatcher &d) noexcept {
    sender *s = d.live();
    if (s == nullptr) return true;
    try {
        return s->flush(final_budget, true);
    } catch (...) {
        return false;
    }
}
void lifecycle_link::from_signal(dispatcher &d, std::uint64_t ticket, signal_message kind,
                                 std::uint64_t usec, bool wait) noexcept {
    if (sender *s = d.live()) s->signals().from_signal(ticket, kind, usec, wait);
}
void lifecycle_link::failure(dispatcher &d, message m) noexcept {
    ask(d, d.live(), "queueing the failure status (it is lost)",
        [&](sender &s) { s.failure(std::move(m)); });
}
void lifecycle_link::set_keepalive(dispatcher &d, const keepalive_config &k,
                                   std::function<bool()> healthy) {
    if (sender *s = d.live()) s->set_keepalive(k, std::move(healthy));
}
// Per record while starting or stopping: no getpid() (a child's flag is never read).
void lifecycle_link::progress(dispatcher &d) noexcept {
    if (d.impl_) d.impl_->progress();
}
void lifecycle_link::alive(dispatcher &d) noexcept {
    if (d.impl_) d.impl_->alive();
}
void lifecycle_link::diagnose(dispatcher &d, std::string what) noexcept {
    ask(d, d.live(), "queueing a diagnostic", [&](sender &s) { s.diagnose(std::move(what)); });
}
void lifecycle_link::set_periodic(dispatcher &d, std::function<void()> check) {
    if (sender *s = d.live()) s->set_periodic(std::move(check));
}
bool lifecycle_link::forked(const dispatcher &d) noexcept { return d.impl_ && d.impl_->forked(); }

void dispatcher_access::add_source(dispatcher &d, status_source *source) {
    if (sender *s = d.live()) s->add_source(source);
}
void dispatcher_access::callback_failed(dispatcher &d, callback which) noexcept {
    sender *s = d.live();
    if (s == nullptr) return;
    // What 0.1 did: a lock and a wake-up each time (and on_error on this thread, its control).
    if (controls_off().callback_count || controls_off().on_error_thread) {
        d.report(errc::callback_failed, "status_sink: filter or formatter threw");
        return;
    }
    s->callback_failed(which);
}
void dispatcher_access::remove_source(dispatcher &d, status_source *source) noexcept {
    ask(d, d.live(), "delivering the status of a sink that goes away",
        [&](sender &s) { s.remove_source(source); });
}

}  // namespace details

// ---------------------------------------------------------------------------- dispatcher

namespace {

// The dispatchers with a thread. At exit() each delivers what its sinks hold: a sink may
// outlive main() (a `service` on main's stack, exit() called deep inside the program), so its
// own destruction would come too late or never.
struct live_dispatchers {
    const pid_t pid = ::getpid();  // a forked child takes no lock of the parent's
    std::mutex mutex;
    std::vector<dispatcher *> all;
};
live_dispatchers &live_ones() {
    static auto *const instance = new live_dispatchers;  // never destroyed: exit() reads it
    return *instance;
}
void deliver_at_exit() {
    auto &l = live_ones();
    if (::getpid() != l.pid || details::controls_off().exit_delivery) return;
    std::lock_guard<std::mutex> lock(l.mutex);
    for (dispatcher *d : l.all) details::lifecycle_link::final_delivery(*d);
}

}  // namespace

dispatcher::dispatcher(std::shared_ptr<spdlog_sdnotify::notifier> n, dispatcher_options options)
    : notifier_(std::move(n)),
      enabled_(notifier_ != nullptr && notifier_->enabled()),
      sticky_level_(options.sticky_level) {
    if (!enabled_) return;  // outside systemd: no thread, every call returns at once
    impl_ = std::make_unique<details::sender>(*notifier_, std::move(options), idle_, state_word_);
    impl_->start();
    static std::once_flag registered;
    std::call_once(registered, [] { std::atexit(deliver_at_exit); });
    std::lock_guard<std::mutex> lock(live_ones().mutex);
    live_ones().all.push_back(this);
}

dispatcher::~dispatcher() {
    if (!impl_) return;
    if (impl_->forked()) {
        // The thread, and whatever locks it held, exist only in the parent: leave them alone.
        if (!details::controls_off().child_leak) (void)impl_.release();
        return;
    }
    {
        std::lock_guard<std::mutex> lock(live_ones().mutex);
        auto &all = live_ones().all;
        all.erase(std::remove(all.begin(), all.end(), this), all.end());
    }
    impl_->stop();
}

std::shared_ptr<dispatcher> dispatcher::default_instance() {
    static const std::shared_ptr<dispatcher> instance =
        std::make_shared<dispatcher>(std::shared_ptr<spdlog_sdnotify::notifier>(
            &default_notifier(), [](spdlog_sdnotify::notifier *) {}));
    return instance;
}

void configure_default_dispatcher(dispatcher_options options) {
    dispatcher::default_instance()->set_options(std::move(options));
}

details::sender *dispatcher::live() const noexcept {
    return impl_ && !impl_->forked() ? impl_.get() : nullptr;
}

void dispatcher::set_options(dispatcher_options options) {
    sticky_level_.store(options.sticky_level, std::memory_order_relaxed);
    if (details::sender *s = live()) s->set_options(std::move(options));
}

void dispatcher::wake() noexcept {
    if (details::sender *s = live()) s->wakeups().wake_if_idle();
}

void dispatcher::post_status(std::string_view text, bool sticky,
                             std::chrono::system_clock::time_point when) noexcept {
    if (details::sender *s = live()) s->post_status(text, sticky, when);
}

void dispatcher::post(message msg) noexcept {
    details::ask(*this, live(), "queueing a lifecycle message",
                 [&](details::sender &s) { s.post(std::move(msg)); });
}

bool dispatcher::flush(std::chrono::milliseconds timeout) noexcept {
    if (!impl_) return true;
    if (impl_->forked()) return false;
    try {
        return impl_->flush(timeout, false);
    } catch (...) {
        return false;
    }
}

void dispatcher::report(std::error_code error, std::string_view what) noexcept {
    details::sender *s = live();
    if (s == nullptr) return;
    try {
        s->report(error, what);
    } catch (...) {
    }
}

bool dispatcher::stopping() const noexcept { return impl_ && impl_->signals().stopping_sent(); }

dispatcher::counters dispatcher::stats() const {
    const details::sender *s = live();
    return s != nullptr ? s->stats() : counters{};
}

}  // namespace spdlog_sdnotify
