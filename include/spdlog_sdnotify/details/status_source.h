// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#pragma once

#include <spdlog_sdnotify/export.h>

#include <spdlog_sdnotify/message.h>

#include <spdlog/common.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace spdlog_sdnotify {
class dispatcher;

namespace details {

// The newest status of one source: its latest text and its latest sticky (error) text, with
// their record times. Capacity is reserved once, so that posting never allocates.
struct status_slot {
    std::string latest;
    std::chrono::system_clock::time_point latest_time{};
    std::string sticky;
    std::chrono::system_clock::time_point sticky_time{};
    bool has_sticky = false;
    std::uint64_t seq = 0;  // bumped by every put()
    std::uint64_t sticky_seq = 0;

    // Longest text kept (longer ones are cut): twice a datagram's 4096 bytes; the message
    // builder cuts it again to fit one datagram, marking the cut.
    static constexpr std::size_t max_text = 2 * max_datagram_size;

    void reserve() {
        latest.reserve(max_text);
        sticky.reserve(max_text);
    }
    void put(std::string_view text, bool is_sticky, std::chrono::system_clock::time_point when) {
        text = text.substr(0, max_text);
        latest.assign(text.data(), text.size());  // within the reserved capacity
        latest_time = when;
        ++seq;
        if (is_sticky) {
            sticky.assign(text.data(), text.size());
            sticky_time = when;
            has_sticky = true;
            sticky_seq = seq;
        }
    }
};

// A producer of status texts (a status_sink, lock-free: details/status_cells.h). The
// dispatcher's thread pulls from it.
class status_source {
public:
    // If anything was published since `seen`, copy the newest texts into `into`, update
    // `seen` and return true.
    virtual bool pull(status_slot &into, std::uint64_t &seen) = 0;
    // How many texts it has posted.
    virtual std::uint64_t posted() = 0;

protected:
    ~status_source() = default;
};

// The dispatcher's plumbing for sinks and the lifecycle, kept out of its public interface.
struct SPDLOG_SDNOTIFY_API dispatcher_access {
    static void add_source(dispatcher &d, status_source *source);
    static void remove_source(dispatcher &d, status_source *source) noexcept;
    static void source_changed(dispatcher &d) noexcept;
    // dispatcher_options::sticky_level, for a relaxed load per record.
    static const std::atomic<spdlog::level::level_enum> &sticky_level(const dispatcher &d) noexcept;
};

}  // namespace details
}  // namespace spdlog_sdnotify
