// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#pragma once

// The text part of a rule, prepared once at set-up and asked on the logging thread for every
// record the rule sees: a literal (Boyer-Moore-Horspool, its skip table built once) or a regex
// (PCRE2, JIT-compiled where the system allows it). The lifecycle searches the literals of a
// state together (literal_set); rule::matches() uses the literal's own table.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct pcre2_real_code_8;

namespace spdlog_sdnotify {
namespace details {

class text_test {
public:
    static std::shared_ptr<const text_test> literal(std::string text);
    // Throws std::invalid_argument (with PCRE2's message and offset) if `pattern` is invalid.
    static std::shared_ptr<const text_test> regex(std::string pattern);

    ~text_test();
    text_test(const text_test &) = delete;
    text_test &operator=(const text_test &) = delete;

    // False when the text is not found, and also when a regex could not be tested (PCRE2's
    // match limit on a pattern that backtracks without end, no memory): those are counted, and
    // take_errors() says so, off the logging thread.
    bool found_in(std::string_view text) const noexcept;
    // The text of a literal test; null for a regex.
    const std::string *literal_text() const noexcept {
        return code_ == nullptr ? &literal_ : nullptr;
    }

    // If tests failed since the last report: one sentence for the operator (the pattern, how
    // many records, PCRE2's reason), at most one a minute. Empty otherwise.
    std::string take_errors(std::chrono::steady_clock::time_point now) const;

private:
    void failed(int code) const noexcept;

    text_test() = default;

    std::string literal_;
    std::optional<std::boyer_moore_horspool_searcher<const char *>> search_;  // over literal_
    pcre2_real_code_8 *code_ = nullptr;
    bool jit_ = false;
    std::string pattern_;
    mutable std::atomic<std::uint64_t> errors_{0};
    mutable std::atomic<int> last_error_{0};
    // take_errors() runs on one thread (the dispatcher's).
    mutable std::uint64_t errors_reported_ = 0;
    mutable std::chrono::steady_clock::time_point next_report_{};
};

// The literals that the rules of one lifecycle state look for, searched in a single pass
// (Horspool's algorithm over a set of patterns): the rules of a state cost one scan of the
// record, not one per rule. Up to 8 literals; each is tested as text_test::literal would.
class literal_set {
public:
    static constexpr std::size_t max_literals = 8;

    // Returns the literal's bit in find_all()'s answer. At set-up only.
    unsigned add(std::string literal);
    // A bit per literal found in `text`. Inline: it runs for every record of the process.
    unsigned find_all(std::string_view text) const noexcept {
        if (window_ == 0) return 0;  // no literal
        unsigned found = 0;
        const std::size_t n = text.size();
        for (std::size_t pos = 0; pos + window_ <= n;) {
            const byte_entry e = table_[static_cast<unsigned char>(text[pos + window_ - 1])];
            if (const unsigned candidates = e.ends & ~found) {
                found |= compare_at(text.substr(pos), candidates);
                if (found == all_) break;
            }
            pos += e.shift;
        }
        return found;
    }

private:
    // Which of `candidates` start `text`.
    unsigned compare_at(std::string_view text, unsigned candidates) const noexcept;

    std::size_t window_ = 0;  // the shortest literal's length, at most 255
    unsigned all_ = 0;        // a bit per literal
    // Per byte c: how far the window may move on when its last byte is c, and which literals
    // end their first window_ bytes with c (those are compared in full). One load per window.
    struct byte_entry {
        std::uint8_t shift;
        std::uint8_t ends;
    };
    std::array<byte_entry, 256> table_{};
    std::vector<std::string> literals_;  // read only for a candidate
};

}  // namespace details
}  // namespace spdlog_sdnotify
