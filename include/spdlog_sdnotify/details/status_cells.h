// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#pragma once

#include <spdlog_sdnotify/export.h>

// The status sink's storage: latest-wins cells that logging threads publish into without a
// lock, and that the dispatcher's thread reads. Internal: use status_sink.
#include <spdlog_sdnotify/details/status_source.h>
#include <spdlog_sdnotify/message.h>

#include <spdlog/common.h>
#include <spdlog/formatter.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

// spdlog's SPDLOG_TRY with a catch-all that works with -fno-exceptions (SPDLOG_NO_EXCEPTIONS).
#ifdef SPDLOG_NO_EXCEPTIONS
#define SPDLOG_SDNOTIFY_CATCH_ALL if (false)
#else
#define SPDLOG_SDNOTIFY_CATCH_ALL catch (...)
#endif

namespace spdlog_sdnotify {
namespace details {

// A small number per thread, given on its first record: which of a sink's cells it tries first.
inline std::atomic<unsigned> next_thread_number{0};
inline thread_local unsigned thread_number = 0;  // 0: not given yet
inline unsigned this_thread_number() noexcept {
    if (thread_number == 0) thread_number = next_thread_number.fetch_add(1) + 1;
    return thread_number;
}

// The order in which texts were published, across every thread and sink of the process: the
// newest text is the one that took the highest number, whatever the records' clock said (a
// clock stepped back must not freeze the status). One fetch_add per record, in the library so
// that every sink and post_status() count on the same word (src/status_cells.cpp).
SPDLOG_SDNOTIFY_API std::atomic<std::uint64_t> &status_order() noexcept;

// One writer's newest text and newest sticky (error) text. A seqlock: the writer makes `seq`
// odd, writes, makes it even; the reader copies and keeps the copy only if `seq` did not move.
// The words are written with release stores (plain moves on x86), so a reader that sees a new
// word also sees the odd `seq` before it. The text is kept in atomic words so that a reader
// racing a writer is a retry, not a data race.
struct status_cell {
    // A datagram holds no more: longer texts are cut here (and marked by the message builder).
    static constexpr std::size_t capacity = max_datagram_size;
    static constexpr std::size_t words = capacity / sizeof(std::uint64_t);

    struct text {
        std::atomic<std::uint32_t> size{0};
        std::atomic<std::int64_t> time{0};    // the record's time, ns since the epoch (shown)
        std::atomic<std::uint64_t> order{0};  // its place in status_order() (compared)
        std::array<std::atomic<std::uint64_t>, words> bytes{};

        void store(std::string_view t, std::int64_t when, std::uint64_t place) noexcept {
            const std::size_t n = std::min(t.size(), capacity);
            std::size_t i = 0;
            for (; i + sizeof(std::uint64_t) <= n; i += sizeof(std::uint64_t)) {
                std::uint64_t w;
                std::memcpy(&w, t.data() + i, sizeof w);
                bytes[i / sizeof w].store(w, std::memory_order_release);
            }
            if (i < n) {
                // The last 1-7 bytes, without a variable-length memcpy (a call, and a stall
                // reading back what it wrote): the text's last 8 bytes, shifted into place.
                std::uint64_t w = 0;
                const std::size_t rest = n - i;
                if (n >= sizeof w) {
                    std::memcpy(&w, t.data() + n - sizeof w, sizeof w);
                    // Move the wanted bytes to the front of the word, as they lie in memory.
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
                    w <<= 8 * (sizeof w - rest);
#else
                    w >>= 8 * (sizeof w - rest);
#endif
                } else {
                    char bytes8[sizeof w] = {};
                    for (std::size_t k = 0; k < rest; ++k) bytes8[k] = t[i + k];
                    std::memcpy(&w, bytes8, sizeof w);
                }
                bytes[i / sizeof w].store(w, std::memory_order_release);
            }
            size.store(static_cast<std::uint32_t>(n), std::memory_order_release);
            time.store(when, std::memory_order_release);
            order.store(place, std::memory_order_release);
        }
        // Into `out` (its capacity reserved beforehand: no allocation).
        void load(std::string &out) const {
            // Acquire loads: none may drift past the reader's second look at `seq` (the
            // standard seqlock reader, without a fence, which ThreadSanitizer cannot follow).
            const std::size_t n =
                std::min<std::size_t>(size.load(std::memory_order_acquire), capacity);
            out.resize(n);
            for (std::size_t i = 0; i < n; i += sizeof(std::uint64_t)) {
                const std::uint64_t w = bytes[i / sizeof w].load(std::memory_order_acquire);
                std::memcpy(&out[i], &w, std::min(sizeof w, n - i));
            }
        }
    };

    alignas(64) std::atomic<std::uint64_t> seq{0};  // odd: being written
    std::uint64_t claimed = 0;  // the odd value its claimant made it (only the claimant reads)
    std::atomic<bool> has_sticky{false};
    // Summary counts (status_sink_config::summary): written only by the cell's claimant, so a
    // load and a store, no read-modify-write; the sender sums them over the cells.
    std::atomic<std::uint64_t> errors{0};
    std::atomic<std::uint64_t> warnings{0};
    text latest;
    text sticky;
    // The writer's own copy of the sink's pattern, and the buffer it formats into.
    std::unique_ptr<spdlog::formatter> formatter;
    std::uint64_t formatter_generation = 0;
    spdlog::memory_buf_t formatted;
};

// The cells of one sink, made on first use. A thread starts at the cell its number gives and
// claims the first one no other writer holds. Writers: acquire(), then publish() or abandon().
// The dispatcher's thread: pull().
class SPDLOG_SDNOTIFY_API status_cells {
public:
    static constexpr unsigned cells_per_sink = 16;

    status_cells() = default;
    ~status_cells() {
        for (auto &c : cells_) delete c.load();
    }
    status_cells(const status_cells &) = delete;
    status_cells &operator=(const status_cells &) = delete;

    // Claims a cell for this thread's record (its seq made odd by one compare-and-swap) and
    // returns it; publish() releases it. The compare-and-swap is sequentially consistent: it
    // orders the record before the writer's look at the dispatcher's idle flag
    // (dispatcher_access::source_changed), so a sender on its way to sleep cannot miss it.
    // `one_writer` (a _st sink): one cell, whose writers the application orders. Allocates
    // only the first time a cell is used. With more than 16 threads writing at the same
    // moment, a thread yields until a cell is free.
    status_cell *acquire(bool one_writer) {
        const unsigned first = one_writer ? 0 : this_thread_number() % cells_per_sink;
        for (;;) {
            for (unsigned k = 0; k < cells_per_sink; ++k) {
                status_cell *c = cell((first + k) % cells_per_sink);
                std::uint64_t s = c->seq.load(std::memory_order_relaxed);
                if ((s & 1U) == 0 &&
                    c->seq.compare_exchange_strong(s, s + 1, std::memory_order_seq_cst)) {
                    c->claimed = s + 1;
                    return c;
                }
            }
            std::this_thread::yield();  // every cell is being written this very moment
        }
    }
    // Gives a claimed cell back unchanged (a record that was filtered out after all).
    static void abandon(status_cell &c) noexcept {
        c.seq.store(c.claimed + 1, std::memory_order_release);
    }

    // Writes the record into a claimed cell and releases it. The caller then looks at the
    // dispatcher's idle flag (source_changed), which the dispatcher sets before its last look
    // at the cells: either the writer sees the flag and wakes it, or the dispatcher sees the
    // cell written (see acquire() for what orders the two).
    // `order`: status_order(), the number that says which text was published last.
    static void publish(status_cell &c, std::string_view text, bool is_sticky,
                        std::chrono::system_clock::time_point when,
                        std::atomic<std::uint64_t> &order) noexcept {
        const std::int64_t t =
            std::chrono::duration_cast<std::chrono::nanoseconds>(when.time_since_epoch()).count();
        const std::uint64_t place = order.fetch_add(1, std::memory_order_relaxed) + 1;
        c.latest.store(text, t, place);
        if (is_sticky) {
            c.sticky.store(text, t, place);
            c.has_sticky.store(true, std::memory_order_release);
        }
        // Even again: published. Only the claimant writes `seq` until then.
        c.seq.store(c.claimed + 1, std::memory_order_release);
    }

    // Counts a record for the summary, in a claimed cell (its claimant is the only writer).
    static void count(status_cell &c, bool is_error, bool is_warning) noexcept {
        if (is_error)
            c.errors.store(c.errors.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        else if (is_warning)
            c.warnings.store(c.warnings.load(std::memory_order_relaxed) + 1,
                             std::memory_order_relaxed);
    }

    // The dispatcher's thread: the newest text and the newest sticky text over all cells, by
    // publication order, if anything was published since `seen` (src/status_cells.cpp).
    bool pull(status_slot &into, std::uint64_t &seen);

    // How many texts were published (each moves a cell's seq by 2).
    std::uint64_t published() const noexcept {
        std::uint64_t total = 0;
        for (auto &p : cells_)
            if (const status_cell *c = p.load(std::memory_order_acquire))
                total += c->seq.load(std::memory_order_acquire) / 2;
        return total;
    }

    // The reader's buffers, sized once (the dispatcher's thread never allocates for a text).
    void reserve() {
        scratch_latest_.reserve(status_cell::capacity);
        scratch_sticky_.reserve(status_cell::capacity);
    }

private:
    status_cell *cell(unsigned i) {
        status_cell *c = cells_[i].load(std::memory_order_acquire);
        if (c != nullptr) return c;
        auto fresh = std::make_unique<status_cell>();
        if (cells_[i].compare_exchange_strong(c, fresh.get(), std::memory_order_acq_rel))
            return fresh.release();
        return c;  // another thread made it first
    }

    std::array<std::atomic<status_cell *>, cells_per_sink> cells_{};
    std::string scratch_latest_, scratch_sticky_;
};

}  // namespace details
}  // namespace spdlog_sdnotify
