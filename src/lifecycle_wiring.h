// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#pragma once

// The lifecycle's wiring check, about once a second on the dispatcher's thread: mistakes in
// how the application set things up, each said once, with its fix, and a reload that nobody
// ends. It reads only what is safe to read from another thread (the registry's loggers under
// its lock, their names and levels, the signal handlers); it never changes a handler or a
// logger (a "repair" behind the application's back once hung a real shutdown).

#include <spdlog/logger.h>

#include <chrono>
#include <string>
#include <vector>

namespace spdlog_sdnotify {
namespace details {

struct lifecycle_state;

class lifecycle_wiring {
public:
    explicit lifecycle_wiring(lifecycle_state &s);
    void check();

private:
    struct logger_seen {
        std::string name;
        spdlog::level::level_enum level;
        bool attached;
        bool is_default;
    };
    std::vector<logger_seen> look_at_loggers() const;
    void check_handlers();
    void check_loggers(const std::vector<logger_seen> &loggers);
    void check_levels(const std::vector<logger_seen> &loggers);
    void check_no_ready(const std::vector<logger_seen> &loggers);
    void check_reload();
    void say(std::string what);
    bool once(std::vector<std::string> &said, const std::string &key);

    lifecycle_state &s_;
    std::vector<std::string> said_;  // keys of what was said
    std::chrono::steady_clock::time_point created_ = std::chrono::steady_clock::now();
};

}  // namespace details
}  // namespace spdlog_sdnotify
