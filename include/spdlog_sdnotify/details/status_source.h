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
// their places in the publication order (status_order(): which is newer) and their record
// times (shown by the summary, never compared). Capacity is reserved once, so that posting
// never allocates.
struct status_slot {
    std::string latest;
    std::chrono::system_clock::time_point latest_time{};
    std::uint64_t latest_order = 0;
    std::string sticky;
    std::chrono::system_clock::time_point sticky_time{};
    std::uint64_t sticky_order = 0;
    bool has_sticky = false;
    std::uint64_t seq = 0;  // bumped by every put()
    // The summary's counts (cumulative, records at or above sticky_level and at warn), and
    // its window; 0: this source has no summary.
    std::uint64_t errors = 0;
    std::uint64_t warnings = 0;
    std::chrono::seconds summary_window{0};

    // Longest text kept (longer ones are cut): twice a datagram's 4096 bytes; the message
    // builder cuts it again to fit one datagram, marking the cut.
    static constexpr std::size_t max_text = 2 * max_datagram_size;

    void reserve() {
        latest.reserve(max_text);
        sticky.reserve(max_text);
    }
    void put(std::string_view text, bool is_sticky, std::chrono::system_clock::time_point when,
             std::uint64_t order) {
        text = text.substr(0, max_text);
        latest.assign(text.data(), text.size());  // within the reserved capacity
        latest_time = when;
        latest_order = order;
        ++seq;
        if (is_sticky) {
            sticky.assign(text.data(), text.size());
            sticky_time = when;
            sticky_order = order;
            has_sticky = true;
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

// The application's callbacks that run on the logging thread, for callback_failed().
enum class callback : unsigned char { filter, formatter, rule };

// The dispatcher's plumbing for sinks and the lifecycle, kept out of its public interface.
struct SPDLOG_SDNOTIFY_API dispatcher_access {
    // A callback threw: counted (one relaxed add), never a lock or a syscall per record; the
    // first failure of a kind wakes an idle sender, which says it once (what, how often).
    static void callback_failed(dispatcher &d, callback which) noexcept;
    static void add_source(dispatcher &d, status_source *source);
    static void remove_source(dispatcher &d, status_source *source) noexcept;
    static void source_changed(dispatcher &d) noexcept;
    // dispatcher_options::sticky_level, for a relaxed load per record.
    static const std::atomic<spdlog::level::level_enum> &sticky_level(const dispatcher &d) noexcept;
};

}  // namespace details
}  // namespace spdlog_sdnotify
