// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)

// The program every packaging test builds, as an outside project would (find_package,
// add_subdirectory, pkg-config): it uses the compiled library (message, notifier, dispatcher) and
// the header templates (status_sink over a spdlog::logger), and checks the bytes that arrive on a
// notify socket of its own. Exit status 0 only if everything matched.

#include <spdlog_sdnotify/message.h>
#include <spdlog_sdnotify/notifier.h>
#include <spdlog_sdnotify/status_sink.h>
#include <spdlog_sdnotify/version.h>

#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <type_traits>

#ifndef CONSUMER_EXPECT_SPDLOG_HEADER_ONLY
#define CONSUMER_EXPECT_SPDLOG_HEADER_ONLY 0
#endif
#ifndef CONSUMER_EXPECT_STD_FORMAT
#define CONSUMER_EXPECT_STD_FORMAT 0
#endif

namespace {

int failures = 0;

void check(bool ok, const char *what, const std::string &got) {
    std::string shown;
    for (char c : got) shown += c == '\n' ? std::string("\\n") : std::string(1, c);
    std::printf("%s: %s (got \"%s\")\n", ok ? "ok" : "FAILED", what, shown.c_str());
    if (!ok) ++failures;
}

}  // namespace

int main() {
    // 0. The process-wide notifier's options, set first as main() should.
    spdlog_sdnotify::notifier_options notifier_options;
    notifier_options.allow_forked_child = false;
    const bool applied = spdlog_sdnotify::set_default_notifier_options(notifier_options);
    check(applied, "set_default_notifier_options() first in main()", applied ? "true" : "false");
    spdlog_sdnotify::dispatcher_options default_options;
    default_options.sticky_level = spdlog::level::critical;
    spdlog_sdnotify::configure_default_dispatcher(default_options);
    const auto sticky = spdlog_sdnotify::dispatcher::default_instance()->sticky_level();
    check(sticky == spdlog::level::critical, "configure_default_dispatcher()",
          std::to_string(static_cast<int>(sticky)));

    // 1. The compiled protocol code.
    const std::string datagram = spdlog_sdnotify::message{}.ready().status("x").str();
    check(datagram == "READY=1\nSTATUS=x\n", "message{}.ready().status(\"x\").str()", datagram);

    // 2. The spdlog flavour agreed on by the package and this program.
#ifdef SPDLOG_COMPILED_LIB
    const bool header_only = false;
#else
    const bool header_only = true;
#endif
    check(header_only == static_cast<bool>(CONSUMER_EXPECT_SPDLOG_HEADER_ONLY), "spdlog flavour",
          header_only ? "header-only" : "compiled");
#ifdef SPDLOG_USE_STD_FORMAT
    const bool std_format = std::is_same_v<spdlog::memory_buf_t, std::string>;
#else
    const bool std_format = false;
#endif
    check(std_format == static_cast<bool>(CONSUMER_EXPECT_STD_FORMAT),
          "spdlog's formatting library", std_format ? "std::format" : "fmt");

    // 3. A status sink on a spdlog::logger, through a dispatcher and notifier to our own socket.
    char dir[] = "/tmp/sdnotify-consumer-XXXXXX";
    if (mkdtemp(dir) == nullptr) {
        std::perror("mkdtemp");
        return 2;
    }
    const std::string path = std::string(dir) + "/notify";
    const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    timeval timeout{5, 0};
    if (fd < 0 || bind(fd, reinterpret_cast<const sockaddr *>(&addr), sizeof(addr)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)) != 0) {
        std::perror("notify socket");
        return 2;
    }

    std::string received;
    {
        auto notifier = std::make_shared<spdlog_sdnotify::notifier>(path);
        auto dispatcher = std::make_shared<spdlog_sdnotify::dispatcher>(notifier);
        spdlog_sdnotify::status_sink_config config;
        config.dispatcher = dispatcher;
        auto sink = std::make_shared<spdlog_sdnotify::status_sink_mt>(std::move(config));
        spdlog::logger logger("consumer", sink);
        logger.info("consumer {} of {}", 2, 3);
        logger.debug("below the sink's level");
        dispatcher->flush(std::chrono::seconds(5));

        char buffer[4096];
        const ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
        if (n > 0) received.assign(buffer, static_cast<std::size_t>(n));
    }
    check(received == "STATUS=consumer 2 of 3\n", "status_sink_mt through spdlog::logger",
          received);

    // 4. spdlog's set_formatter() (what logger->set_pattern() calls on every sink): the status
    //    follows it with follow_logger_pattern, and keeps the raw payload without.
    for (const bool follow : {true, false}) {
        auto notifier = std::make_shared<spdlog_sdnotify::notifier>(path);
        auto dispatcher = std::make_shared<spdlog_sdnotify::dispatcher>(notifier);
        spdlog_sdnotify::status_sink_config config;
        config.dispatcher = dispatcher;
        config.follow_logger_pattern = follow;
        spdlog::logger logger("consumer",
                              std::make_shared<spdlog_sdnotify::status_sink_mt>(std::move(config)));
        logger.set_formatter(std::make_unique<spdlog::pattern_formatter>("[%n] %v"));
        logger.info("formatted");
        dispatcher->flush(std::chrono::seconds(5));
        std::string got = "BARRIER=1\n";  // flush() ends with one: not what we look for
        while (got == "BARRIER=1\n") {
            char buffer[4096];
            const ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
            got = n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : "";
        }
        check(got == (follow ? "STATUS=[consumer] formatted\n" : "STATUS=formatted\n"),
              follow ? "set_formatter() with follow_logger_pattern"
                     : "set_formatter() ignored without follow_logger_pattern",
              got);
    }

    const auto outcome = spdlog_sdnotify::notifier(path).status("gone").outcome();
    check(outcome == spdlog_sdnotify::notify_result::outcome_type::sent, "notify_result::outcome()",
          std::to_string(static_cast<int>(outcome)));

    close(fd);
    unlink(path.c_str());
    rmdir(dir);

    std::printf("spdlog_sdnotify %d.%d.%d, spdlog %d.%d.%d: %s\n", SPDLOG_SDNOTIFY_VER_MAJOR,
                SPDLOG_SDNOTIFY_VER_MINOR, SPDLOG_SDNOTIFY_VER_PATCH, SPDLOG_VER_MAJOR,
                SPDLOG_VER_MINOR, SPDLOG_VER_PATCH, failures == 0 ? "all ok" : "FAILED");
    return failures == 0 ? 0 : 1;
}
