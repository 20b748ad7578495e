// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#pragma once

#include <pthread.h>
#include <signal.h>

#include <thread>
#include <utility>

namespace spdlog_sdnotify {
namespace details {

// Starts a thread with every asynchronous signal blocked, so that the application's signals never
// run on our threads: handlers keep running where the application expects them, and a program that
// waits for its signals with sigwait() does not have them taken by a thread of ours.
template <typename F>
std::thread start_quiet_thread(F &&body) {
    sigset_t all, previous;
    sigfillset(&all);
    // Synchronous signals stay deliverable: a crash on our thread must still reach the
    // application's crash reporter (and they cannot be blocked meaningfully anyway).
    for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGSYS, SIGTRAP})
        sigdelset(&all, sig);
    pthread_sigmask(SIG_SETMASK, &all, &previous);  // the new thread inherits this mask
    std::thread t;
    try {
        t = std::thread(std::forward<F>(body));
    } catch (...) {
        pthread_sigmask(SIG_SETMASK, &previous, nullptr);
        throw;
    }
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    return t;
}

}  // namespace details
}  // namespace spdlog_sdnotify
