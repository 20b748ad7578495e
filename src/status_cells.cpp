// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)

// The reading side of the status sink's cells, on the dispatcher's thread.
#include <spdlog_sdnotify/details/status_cells.h>

#include <thread>

#include "controls.h"

namespace spdlog_sdnotify {
namespace details {

std::atomic<std::uint64_t> &status_order() noexcept {
    // A cache line of its own: every record writes it, nothing else should share the line.
    struct alignas(64) padded {
        std::atomic<std::uint64_t> value{0};
    };
    static padded order;
    return order.value;
}

// The dispatcher's thread: the newest text and the newest sticky text over all cells, by
// publication order (not record time: a clock stepped back would freeze the status), and the
// summary's counts, if anything was published since `seen`.
bool status_cells::pull(status_slot &into, std::uint64_t &seen) {
    // Sequentially consistent: against a writer's claim (a compare-and-swap) and the sender's
    // idle flag, no record is missed on the sender's way to sleep (docs/design.md, Dekker).
    std::uint64_t total = 0;
    for (auto &p : cells_) {
        if (const status_cell *c = p.load(std::memory_order_acquire))
            total += c->seq.load(std::memory_order_seq_cst);
    }
    if (total == seen) return false;
    bool complete = true, any_latest = false, any_sticky = false;
    std::uint64_t best_latest = 0, best_sticky = 0;
    std::int64_t latest_time = 0, sticky_time = 0;
    std::uint64_t errors = 0, warnings = 0;
    for (auto &p : cells_) {
        const status_cell *c = p.load(std::memory_order_acquire);
        if (c == nullptr) continue;
        bool read = false;
        for (int attempt = 0; attempt < 64 && !read; ++attempt) {
            const std::uint64_t s1 = c->seq.load(std::memory_order_acquire);
            if (s1 == 0) {
                read = true;  // never written
                break;
            }
            if (s1 & 1U) {
                std::this_thread::yield();
                continue;
            }
            const std::uint64_t lo = c->latest.order.load(std::memory_order_acquire);
            const std::int64_t lt = c->latest.time.load(std::memory_order_acquire);
            const bool sticky = c->has_sticky.load(std::memory_order_acquire);
            const std::uint64_t so = c->sticky.order.load(std::memory_order_acquire);
            const std::int64_t st = c->sticky.time.load(std::memory_order_acquire);
            // (Control publication_order: by the record's clock, as 0.1 did.)
            const bool by_clock = controls_off().publication_order;
            const bool take_latest =
                !any_latest || (by_clock ? lt >= latest_time : lo > best_latest);
            const bool take_sticky =
                sticky && (!any_sticky || (by_clock ? st >= sticky_time : so > best_sticky));
            if (take_latest) c->latest.load(scratch_latest_);
            if (take_sticky) c->sticky.load(scratch_sticky_);
            if (c->seq.load(std::memory_order_relaxed) != s1 && !controls_off().seqlock)
                continue;  // torn: read it again
            read = true;
            if (take_latest) {
                into.latest.swap(scratch_latest_);
                best_latest = lo;
                latest_time = lt;
                any_latest = true;
            }
            if (take_sticky) {
                into.sticky.swap(scratch_sticky_);
                best_sticky = so;
                sticky_time = st;
                any_sticky = true;
            }
        }
        // Only the cell's claimants write them, each a count that only grows.
        errors += c->errors.load(std::memory_order_relaxed);
        warnings += c->warnings.load(std::memory_order_relaxed);
        complete = complete && read;
    }
    if (!any_latest) return false;
    using ns = std::chrono::nanoseconds;
    into.latest_time = std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(ns(latest_time)));
    into.latest_order = best_latest;
    into.has_sticky = any_sticky;
    if (any_sticky) {
        into.sticky_time = std::chrono::system_clock::time_point(
            std::chrono::duration_cast<std::chrono::system_clock::duration>(ns(sticky_time)));
        into.sticky_order = best_sticky;
    }
    into.errors = errors;
    into.warnings = warnings;
    into.seq = total;
    // A cell that a writer kept busy throughout is read next time (its writer wakes us).
    seen = complete ? total : 0;
    return true;
}

}  // namespace details
}  // namespace spdlog_sdnotify
