// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)

// The smallest use of the protocol client: tell systemd we are ready, then report progress.
// Under systemd (Type=notify) `systemctl status` shows the status line; elsewhere every call
// is a quiet no-op and the program just runs. No `service` here on purpose: this is the set-up
// for a program that does not log with spdlog, or wants to send each message itself.
#include <spdlog_sdnotify/notifier.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

int main(int argc, char **argv) {
    const int steps = argc > 1 ? std::stoi(argv[1]) : 3;
    spdlog_sdnotify::notifier notifier;  // reads NOTIFY_SOCKET once

    auto r = notifier.ready("hello: ready");
    std::printf("READY=1 -> %s\n", r.is_sent()         ? "sent"
                                   : r.is_no_manager() ? "no service manager (not under systemd)"
                                                       : r.error().message().c_str());
    for (int i = 1; i <= steps; ++i) {
        notifier.status("hello: step " + std::to_string(i) + "/" + std::to_string(steps));
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    notifier.stopping("hello: done");
    return 0;
}
