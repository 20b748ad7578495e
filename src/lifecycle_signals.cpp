// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#include "lifecycle_signals.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>

#include "controls.h"
#include "lifecycle_state.h"

namespace spdlog_sdnotify {
namespace details {

std::int64_t monotonic_now_ns() noexcept {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

namespace {

// One signal we took: the application's handler before ours, and the flags ours has.
struct taken_signal {
    int sig;
    std::atomic<bool> installed{false};  // read by the wiring check's thread
    struct sigaction previous {};
    int our_flags = 0;
};

// What the handler needs, set up beforehand: it may not allocate, lock or look anything up.
// Only one lifecycle owns it at a time.
struct signal_setup {
    std::atomic<lifecycle_state *> owner{nullptr};
    taken_signal term{SIGTERM};
    taken_signal intr{SIGINT};
    taken_signal hup{SIGHUP};
    bool ready_after_hup = false;
};
signal_setup g_signals;

void on_signal(int sig, siginfo_t *info, void *context);

taken_signal &taken(int sig) noexcept {
    return sig == SIGHUP ? g_signals.hup : sig == SIGINT ? g_signals.intr : g_signals.term;
}

bool is_ours(const struct sigaction &current, const taken_signal &t) noexcept {
    if ((current.sa_flags & SA_SIGINFO) && current.sa_sigaction == on_signal) return true;
    // SA_RESETHAND: the kernel put SIG_DFL back as it delivered the signal, as asked.
    return (static_cast<unsigned>(t.our_flags) & SA_RESETHAND) &&
           !(current.sa_flags & SA_SIGINFO) && current.sa_handler == SIG_DFL;
}

bool default_terminates(const struct sigaction &previous) noexcept {
    return !(previous.sa_flags & SA_SIGINFO) && previous.sa_handler == SIG_DFL;
}

void run_previous(const struct sigaction &previous, int sig, siginfo_t *info, void *context,
                  bool default_is_fatal) {
    if (previous.sa_flags & SA_SIGINFO) {
        if (previous.sa_sigaction != nullptr) previous.sa_sigaction(sig, info, context);
    } else if (previous.sa_handler == SIG_IGN) {
        // ignored before us: stays ignored
    } else if (previous.sa_handler == SIG_DFL) {
        if (default_is_fatal) {
            // What would have happened without us: the default action (termination).
            struct sigaction dfl {};
            dfl.sa_handler = SIG_DFL;
            sigemptyset(&dfl.sa_mask);
            sigaction(sig, &dfl, nullptr);
            raise(sig);
        }
    } else {
        previous.sa_handler(sig);
    }
}

void on_signal(int sig, siginfo_t *info, void *context) {
    const int saved_errno = errno;
    lifecycle_state *self = g_signals.owner.load();
    const taken_signal &t = taken(sig);
    // Called by a handler the application installed after ours, which chains to the one it
    // replaced: the application handles this signal, and what follows is its own decision
    // (no default action from us, which would end the process before its shutdown ran).
    struct sigaction current {};
    const bool chained = sigaction(sig, nullptr, &current) == 0 && !is_ours(current, t) &&
                         !controls_off().chained_signal;
    dispatcher *d = self != nullptr ? self->target.get() : nullptr;
    if (sig == SIGHUP) {
        if (self != nullptr) {
            const std::int64_t began = monotonic_now_ns();
            self->reload_began_ns.store(began);
            const auto ticket = lifecycle_link::transition(*d, state_bit(lifecycle::state::ready),
                                                           lifecycle::state::reloading);
            if (ticket != 0)
                lifecycle_link::from_signal(*d, ticket, signal_message::reloading,
                                            static_cast<std::uint64_t>(began) / 1000U, false);
        }
        run_previous(t.previous, sig, info, context, false);
        if (self != nullptr && g_signals.ready_after_hup) {
            const auto ticket = lifecycle_link::transition(
                *d, state_bit(lifecycle::state::reloading), lifecycle::state::ready);
            if (ticket != 0)
                lifecycle_link::from_signal(*d, ticket, signal_message::ready_after_hup, 0, false);
        }
        errno = saved_errno;
        return;
    }
    if (self != nullptr) {
        const auto ticket = lifecycle_link::transition(
            *d,
            state_bits(
                {lifecycle::state::starting, lifecycle::state::ready, lifecycle::state::reloading}),
            lifecycle::state::stopping);
        if (ticket != 0) {
            // With the default action next, this is the last chance: wait for it (bounded).
            lifecycle_link::from_signal(
                *d, ticket, sig == SIGINT ? signal_message::stop_int : signal_message::stop_term, 0,
                !chained && default_terminates(t.previous));
        }
    }
    run_previous(t.previous, sig, info, context, !chained);
    errno = saved_errno;
}

// Installs our handler in front of the application's, with its flags and mask, so that
// SA_RESETHAND ("Ctrl-C twice"), SA_NODEFER and SA_ONSTACK still mean what they meant. A
// signal the application ignores stays ignored: nothing to report, since nothing will stop.
void install(taken_signal &t) {
    sigaction(t.sig, nullptr, &t.previous);
    if (!(t.previous.sa_flags & SA_SIGINFO) && t.previous.sa_handler == SIG_IGN) return;
    struct sigaction sa {};
    sa.sa_sigaction = on_signal;
    sa.sa_flags = t.previous.sa_flags | SA_SIGINFO;
    sa.sa_mask = t.previous.sa_mask;
    t.our_flags = sa.sa_flags;
    t.installed.store(sigaction(t.sig, &sa, nullptr) == 0);
}

// Only a handler that is still ours goes back: one the application installed since is its own.
void uninstall(taken_signal &t) {
    if (!t.installed.exchange(false)) return;
    struct sigaction current {};
    if (sigaction(t.sig, nullptr, &current) == 0 && is_ours(current, t))
        sigaction(t.sig, &t.previous, nullptr);
}

void at_exit_hook() {
    lifecycle_state *self = g_signals.owner.load();
    if (self == nullptr || !self->config().stop_at_exit) return;
    if (lifecycle_link::forked(*self->target)) return;  // the parent's service, not ours
    if (self->to_stopping("")) self->target->flush(std::chrono::milliseconds(500));
}

}  // namespace

bool take_signals(lifecycle_state &s) {
    lifecycle_state *expected = nullptr;
    if (!g_signals.owner.compare_exchange_strong(expected, &s)) return false;
    const lifecycle_config &c = s.config();
    s.handles_signals = true;
    g_signals.ready_after_hup = c.ready_after_sighup_handler;
    // The handler may only send on a socket that is already open.
    if (c.stop_on_signals || c.reload_on_sighup) (void)s.target->notifier()->open();
    if (c.stop_on_signals) {
        install(g_signals.term);
        install(g_signals.intr);
    }
    if (c.reload_on_sighup && s.settings.reloads()) install(g_signals.hup);
    static std::once_flag registered;
    std::call_once(registered, [] { std::atexit(at_exit_hook); });
    return true;
}

void give_back_signals(lifecycle_state &s) {
    if (!s.handles_signals) return;
    uninstall(g_signals.term);
    uninstall(g_signals.intr);
    uninstall(g_signals.hup);
    g_signals.owner.store(nullptr);
}

std::vector<int> replaced_signal_handlers() {
    std::vector<int> replaced;
    for (const taken_signal *t : {&g_signals.term, &g_signals.intr, &g_signals.hup}) {
        struct sigaction current {};
        if (t->installed && sigaction(t->sig, nullptr, &current) == 0 && !is_ours(current, *t))
            replaced.push_back(t->sig);
    }
    return replaced;
}

}  // namespace details
}  // namespace spdlog_sdnotify
