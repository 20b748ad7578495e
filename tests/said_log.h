// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#pragma once

// What the library said through on_error (what an operator would read in the journal), for
// tests that expect a diagnostic once, or none.

#include <spdlog_sdnotify/dispatcher.h>
#include <spdlog_sdnotify/error.h>

#include <chrono>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "catch.h"

namespace test {

class said_log {
public:
    // `wiring_only`: only the wiring diagnostics (errc::wiring), not failed sends.
    explicit said_log(bool wiring_only = false) : wiring_only_(wiring_only) {}

    // Options whose on_error records here.
    spdlog_sdnotify::dispatcher_options options(
        std::chrono::milliseconds min_interval = std::chrono::milliseconds(50)) {
        spdlog_sdnotify::dispatcher_options o;
        o.min_interval = min_interval;
        o.on_error = [this](std::error_code ec, std::string_view what, std::uint64_t) {
            if (wiring_only_ && ec != spdlog_sdnotify::errc::wiring) return;
            std::lock_guard<std::mutex> lock(m_);
            said_.emplace_back(what);
        };
        return o;
    }
    // Records what `d` says from now on (its options replaced by options(500 ms)).
    void install(spdlog_sdnotify::dispatcher &d) {
        d.set_options(options(std::chrono::milliseconds(500)));
    }
    // Waits (the wiring check runs about once a second) for a line containing `text`.
    bool wait_for(const std::string &text,
                  std::chrono::milliseconds limit = std::chrono::seconds(3)) {
        const auto until = std::chrono::steady_clock::now() + limit;
        do {
            if (count(text) > 0) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        } while (std::chrono::steady_clock::now() < until);
        return false;
    }
    // Lines containing `text` (each line is shown if the test fails).
    std::size_t count(const std::string &text) {
        std::lock_guard<std::mutex> lock(m_);
        std::size_t n = 0;
        for (const auto &s : said_) {
            if (s.find(text) != std::string::npos) ++n;
            UNSCOPED_INFO("said: " << s);
        }
        return n;
    }
    // Every line.
    std::size_t size() { return count(""); }

private:
    const bool wiring_only_;
    std::mutex m_;
    std::vector<std::string> said_;
};

}  // namespace test
