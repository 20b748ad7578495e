// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)

// A long batch job whose progress shows as a percentage in `systemctl status`: it only logs
// its progress; the set-up lines (marked) make those lines the unit's Status.
//
//   batch_job [ITEMS] [MS_PER_ITEM]
// Unit file: examples/batch_job.service
#include <spdlog_sdnotify/spdlog_sdnotify.h>

#include <spdlog/spdlog.h>

#include <chrono>
#include <string>
#include <thread>

int main(int argc, char **argv) {
    const int items = argc > 1 ? std::stoi(argv[1]) : 200;
    const int ms_per_item = argc > 2 ? std::stoi(argv[2]) : 20;

    // ---- spdlog_sdnotify set-up ----
    spdlog_sdnotify::service_config notify;  // progress lines become the Status
    notify.lifecycle.ready_when = spdlog_sdnotify::rule::contains("batch started");
    notify.lifecycle.stopping_when = spdlog_sdnotify::rule::contains("batch complete");
    spdlog_sdnotify::service service(notify);
    // ---- end of set-up ----

    spdlog::info("batch started: {} items", items);
    int last_percent = -1;
    for (int done = 1; done <= items; ++done) {
        std::this_thread::sleep_for(std::chrono::milliseconds(ms_per_item));  // the work
        const int percent = done * 100 / items;
        if (percent != last_percent) {
            spdlog::info("processing: {}% ({}/{} items)", percent, done, items);
            last_percent = percent;
        }
    }
    spdlog::info("batch complete: {} items", items);
    return 0;
}
