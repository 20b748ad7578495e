// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#pragma once

// Our lines on stderr, where an operator looks: under systemd that is the journal, which reads
// a leading "<N>" as the line's syslog priority (the sd-daemon convention), so that `journalctl -p
// warning` finds our warnings. On a terminal or in a file the line carries no prefix.

#include <string_view>

namespace spdlog_sdnotify {
namespace details {

enum class report_priority { error = 3, warning = 4 };

// True when stderr is the stream JOURNAL_STREAM names (its device and inode).
bool stderr_is_journal() noexcept;
// "spdlog_sdnotify: warning: <text>\n" (or error), with the priority prefix for the journal.
void write_to_stderr(report_priority priority, std::string_view text) noexcept;

}  // namespace details
}  // namespace spdlog_sdnotify
