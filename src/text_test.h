// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#pragma once

// The text part of a rule, prepared once at set-up and asked on the logging thread for every
// record the rule sees: a literal (Boyer-Moore-Horspool, its skip table built once) or a regex
// (PCRE2, JIT-compiled where the system allows it).
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

    bool found_in(std::string_view text) const noexcept;

private:
    text_test() = default;

    std::string literal_;
    std::optional<std::boyer_moore_horspool_searcher<const char *>> search_;  // over literal_
    pcre2_real_code_8 *code_ = nullptr;
    bool jit_ = false;
};

}  // namespace details
}  // namespace spdlog_sdnotify
