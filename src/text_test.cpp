// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#include "text_test.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <stdexcept>
#include <utility>

#include "controls.h"

namespace spdlog_sdnotify {
namespace details {

namespace {
// One match block per thread, made on its first regex test (the only allocation): pcre2
// matches need one and may not share it. One pair is enough: we ask whether, not where.
pcre2_match_data *thread_match_data() noexcept {
    struct holder {
        pcre2_match_data *data = pcre2_match_data_create(1, nullptr);
        ~holder() { pcre2_match_data_free(data); }
    };
    thread_local holder h;
    return h.data;
}
}  // namespace

std::shared_ptr<const text_test> text_test::literal(std::string text) {
    std::shared_ptr<text_test> t(new text_test);
    t->literal_ = std::move(text);
    const char *p = t->literal_.data();
    t->search_.emplace(p, p + t->literal_.size());
    return t;
}

std::shared_ptr<const text_test> text_test::regex(std::string pattern) {
    std::shared_ptr<text_test> t(new text_test);
    t->pattern_ = pattern;
    int error = 0;
    PCRE2_SIZE offset = 0;
    // Bytes, not UTF: a log line that is not valid UTF-8 is still searched, as std::regex did.
    t->code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), 0,
                             &error, &offset, nullptr);
    if (t->code_ == nullptr) {
        PCRE2_UCHAR message[256];
        pcre2_get_error_message(error, message, sizeof message);
        throw std::invalid_argument("spdlog_sdnotify: rule::regex(\"" + std::move(pattern) +
                                    "\"): " + reinterpret_cast<const char *>(message) +
                                    " at offset " + std::to_string(offset));
    }
    // Without JIT (refused under MemoryDenyWriteExecute=yes, or no JIT for this CPU) the
    // interpreter matches the same, more slowly.
    t->jit_ = pcre2_jit_compile(t->code_, PCRE2_JIT_COMPLETE) == 0;
    return t;
}

text_test::~text_test() {
    if (code_ != nullptr) pcre2_code_free(code_);
}

bool text_test::found_in(std::string_view text) const noexcept {
    if (code_ == nullptr) {
        if (text.size() < literal_.size()) return false;
        return (*search_)(text.data(), text.data() + text.size()).first !=
               text.data() + text.size();
    }
    pcre2_match_data *data = thread_match_data();
    if (data == nullptr) {
        failed(PCRE2_ERROR_NOMEMORY);
        return false;
    }
    const auto subject = reinterpret_cast<PCRE2_SPTR>(text.data());
    const int rc = jit_ ? pcre2_jit_match(code_, subject, text.size(), 0, 0, data, nullptr)
                        : pcre2_match(code_, subject, text.size(), 0, 0, data, nullptr);
    if (rc < 0 && rc != PCRE2_ERROR_NOMATCH) failed(rc);
    return rc >= 0;  // 0: matched, with more groups than the one pair we keep
}

void text_test::failed(int code) const noexcept {
    last_error_.store(code, std::memory_order_relaxed);
    errors_.fetch_add(1, std::memory_order_relaxed);
}

std::string text_test::take_errors(std::chrono::steady_clock::time_point now) const {
    const std::uint64_t errors = errors_.load(std::memory_order_relaxed);
    if (errors == errors_reported_ || now < next_report_ || controls_off().match_errors) return {};
    const std::uint64_t count = errors - errors_reported_;
    errors_reported_ = errors;
    next_report_ = now + std::chrono::minutes(1);
    PCRE2_UCHAR reason[256];
    if (pcre2_get_error_message(last_error_.load(std::memory_order_relaxed), reason,
                                sizeof reason) < 0)
        reason[0] = 0;
    return "rule::regex(\"" + pattern_ + "\") could not test " + std::to_string(count) +
           (count == 1 ? " record" : " records") + " (" + reinterpret_cast<const char *>(reason) +
           "): the rule did not fire for them; simplify the pattern (nested repeats such as "
           "(a+)+ backtrack without end on some lines) or use rule::contains()";
}

}  // namespace details
}  // namespace spdlog_sdnotify
