// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#include "stderr_report.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace spdlog_sdnotify {
namespace details {

namespace {
bool journal_named(const char *journal_stream) noexcept {
    if (journal_stream == nullptr) return false;
    unsigned long long dev = 0, ino = 0;
    if (std::sscanf(journal_stream, "%llu:%llu", &dev, &ino) != 2) return false;
    struct stat st {};
    return ::fstat(STDERR_FILENO, &st) == 0 && static_cast<unsigned long long>(st.st_dev) == dev &&
           static_cast<unsigned long long>(st.st_ino) == ino;
}
}  // namespace

// Asked for each line (they are rare): stderr may be redirected after the set-up.
bool stderr_is_journal() noexcept { return journal_named(std::getenv("JOURNAL_STREAM")); }

void write_to_stderr(report_priority priority, std::string_view text) noexcept {
    const bool error = priority == report_priority::error;
    std::fprintf(stderr, "%sspdlog_sdnotify: %s: %.*s\n",
                 !stderr_is_journal() ? ""
                 : error              ? "<3>"
                                      : "<4>",
                 error ? "error" : "warning", static_cast<int>(text.size()), text.data());
    std::fflush(stderr);
}

}  // namespace details
}  // namespace spdlog_sdnotify
