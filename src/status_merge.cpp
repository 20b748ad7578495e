// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#include "status_merge.h"

#include "controls.h"

#include <spdlog_sdnotify/message.h>

#include <time.h>

#include <algorithm>
#include <ctime>

namespace spdlog_sdnotify {
namespace details {
namespace {

// Bytes of a STATUS value on the wire: sanitised, backslashes doubled ("STATUS=" and the
// newline take 8 of the datagram's 4096).
constexpr std::size_t status_budget = max_datagram_size - 8;
std::size_t wire_size(std::string_view text) {
    const std::string s = sanitize_text(text);
    return s.size() + static_cast<std::size_t>(std::count(s.begin(), s.end(), '\\'));
}

constexpr std::string_view dot = " \xC2\xB7 ";  // " · "

// Plain std (no fmt): the library also builds against spdlog's std::format mode.
std::string window_text(std::chrono::seconds w) {
    const auto s = w.count();
    if (s % 3600 == 0) return std::to_string(s / 3600) + " h";
    if (s % 60 == 0) return std::to_string(s / 60) + " min";
    return std::to_string(s) + " s";
}

std::string plural(std::uint64_t n, const char *one) {
    return std::to_string(n) + " " + one + (n == 1 ? "" : "s");
}

// The local time of day, as spdlog prints it by default: 14:02:11.
std::string time_of_day(std::chrono::system_clock::time_point when) {
    const std::time_t t = std::chrono::system_clock::to_time_t(when);
    std::tm local{};
    char buf[16] = "??:??:??";
    if (::localtime_r(&t, &local) != nullptr) std::strftime(buf, sizeof buf, "%H:%M:%S", &local);
    return buf;
}

}  // namespace

void status_merge::set_summary(std::chrono::seconds window) {
    if (window == window_) return;
    window_ = window;
    compose();
}

void status_merge::published(std::string_view text, std::uint64_t order, bool error, wall_time when,
                             time_point now) {
    const place p{order, 0};
    bool changed = false;
    if (error && (!has_error_ || error_.at < p)) {
        // A newer error replaces the held one at once, and holds from now.
        error_.text.assign(text.data(), text.size());
        error_.at = p;
        error_.when = when;
        has_error_ = true;
        // Not if a lifecycle text posted after it ended the holds already (merged late).
        if (hold_ended_at_ < p) hold(now);
        changed = true;
    }
    if (take_newest(text, p, when)) changed = true;
    if (changed) compose();
}

void status_merge::lifecycle_text(std::string_view text, bool error, wall_time when, time_point now,
                                  std::uint64_t order) {
    const place p = lifecycle_place(order);
    const bool is_the_error = has_error_ && error_.text == text;
    if (error && (!has_error_ || error_.at < p)) {
        // The failure status: an error, held from now.
        if (!is_the_error) {
            error_.text.assign(text.data(), text.size());
            error_.when = when;
        }
        error_.at = p;
        has_error_ = true;
        hold(now);
    } else if (is_the_error && error_.at < p) {
        error_.at = p;  // a failed reload shows its error: still held
    } else if (!is_the_error) {
        end_holds(p);  // a new state: what went wrong before it is the summary's to say
    }
    take_newest(text, p, when);
    compose();
}

bool status_merge::take_newest(std::string_view text, place p, wall_time when) {
    if (has_newest_ && !(newest_.at < p)) return false;
    newest_.text.assign(text.data(), text.size());
    newest_.at = p;
    newest_.when = when;
    newest_.known = true;
    has_newest_ = true;
    return true;
}

void status_merge::lifecycle_unknown(std::uint64_t order) {
    const place p = lifecycle_place(order);
    end_holds(p);
    if (!has_newest_ || newest_.at < p) {
        newest_.text.clear();
        newest_.at = p;
        newest_.known = false;
        has_newest_ = true;
    }
    compose();
}

void status_merge::counts(std::uint64_t errors, std::uint64_t warnings, time_point now) {
    if (window_.count() == 0) return;
    // One sample per window/32: the counts are exact to 1/32 of the window.
    const auto step = std::chrono::duration_cast<clock::duration>(window_) / 32;
    if (samples_.empty()) samples_.push_back({now - window_ - step, 0, 0});
    if (now - samples_.back().at >= step) samples_.push_back({now, errors, warnings});
    // The newest sample at or before the window's start is the base; older ones go.
    while (samples_.size() > 1 && samples_[1].at <= now - window_) samples_.pop_front();
    const sample &base = samples_.front();
    errors_in_window_ = errors - std::min(errors, base.errors);
    warnings_in_window_ = warnings - std::min(warnings, base.warnings);
    compose();
}

const std::string *status_merge::wanted(time_point now) const noexcept {
    if (held(now)) return &error_shown_;
    if (!has_newest_ || !newest_.known) return nullptr;
    return &line_shown_;
}

status_merge::time_point status_merge::changes_at(time_point now) const noexcept {
    if (held(now) && !(newest_.at == error_.at)) return held_until_;
    return time_point::max();
}

// The summary after `head`: "· 2 errors, 3 warnings in 5 min, last error at 14:02:11: db1
// unreachable". The head is never cut for it: what does not fit is left out, the error's text
// first, then the whole summary.
std::string status_merge::suffix(bool head_is_error) const {
    if (window_.count() == 0) return {};
    std::string out;
    if (errors_in_window_ != 0 || warnings_in_window_ != 0) {
        out.append(dot);
        if (errors_in_window_ != 0) out += plural(errors_in_window_, "error");
        if (errors_in_window_ != 0 && warnings_in_window_ != 0) out += ", ";
        if (warnings_in_window_ != 0) out += plural(warnings_in_window_, "warning");
        out += " in " + window_text(window_);
    }
    if (has_error_) {
        out += out.empty() ? std::string(dot) : std::string(", ");
        out += "last error at " + time_of_day(error_.when);
        if (!head_is_error) out += ": " + error_.text;
    }
    return out;
}

void status_merge::compose() {
    const auto with_summary = [this](const std::string &head, bool head_is_error) {
        std::string s = suffix(head_is_error);
        if (s.empty()) return head;
        const std::size_t room = status_budget - std::min(status_budget, wire_size(head));
        if (wire_size(s) > room && !head_is_error) {
            // Without the error's text (its time stays).
            s = suffix(true);
        }
        return wire_size(s) <= room || controls_off().summary_fit ? head + s : head;
    };
    const bool newest_is_error = has_error_ && newest_.at == error_.at;
    line_shown_ =
        has_newest_ && newest_.known ? with_summary(newest_.text, newest_is_error) : std::string();
    error_shown_ = has_error_ ? with_summary(error_.text, true) : std::string();
}

}  // namespace details
}  // namespace spdlog_sdnotify
