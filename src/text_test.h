// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#pragma once

// The text part of a rule, prepared once at set-up and asked on the logging thread for every
// record the rule sees: a literal (Boyer-Moore-Horspool, its skip table built once) or a regex
// (PCRE2, JIT-compiled where the system allows it).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

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

}  // namespace details
}  // namespace spdlog_sdnotify
