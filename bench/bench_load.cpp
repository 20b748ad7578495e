// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)

// Load: what a logging thread pays per record when the receiver keeps up and when it has
// stalled (its queue full, every send failing with EAGAIN), as latency percentiles from one
// run; and how many datagrams PID 1 gets for a burst of a million records.
// Targets: p99 stalled <= 2 x p99 live; datagrams <= burst duration / min_interval + 2.
// min_interval is 20 ms here (not the default 500 ms) so that the stalled run meets dozens of
// failed sends and the burst spans several intervals.
#include <spdlog_sdnotify/receiver.h>
#include <spdlog_sdnotify/status_sink.h>

#include <benchmark/benchmark.h>
#include <spdlog/spdlog.h>

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

constexpr auto min_interval = std::chrono::milliseconds(20);

struct receiver_fixture {
    explicit receiver_fixture(bool reading) {
        char tmpl[] = "/tmp/sdnotify-load-XXXXXX";
        dir = mkdtemp(tmpl);
        std::error_code ec;
        rx = std::make_unique<spdlog_sdnotify::notify_receiver>(dir + "/notify", ec);
        if (ec) std::abort();
        if (reading) {
            reader = std::thread([this] {
                while (!stop) rx->receive(std::chrono::milliseconds(20));
            });
        } else {
            // Stalled from the start: fill the receiver's queue so that every send fails.
            spdlog_sdnotify::notifier filler(rx->address());
            while (filler.status("filler").is_sent()) {
            }
        }
        spdlog_sdnotify::dispatcher_options o;
        o.min_interval = min_interval;  // short, so the stalled run meets many failed sends
        dispatch = std::make_shared<spdlog_sdnotify::dispatcher>(
            std::make_shared<spdlog_sdnotify::notifier>(rx->address()), o);
        spdlog_sdnotify::status_sink_config c;
        c.dispatcher = dispatch;
        logger = std::make_shared<spdlog::logger>(
            "load", std::make_shared<spdlog_sdnotify::status_sink_mt>(c));
    }
    ~receiver_fixture() {
        stop = true;
        if (reader.joinable()) reader.join();
    }
    std::string dir;
    std::unique_ptr<spdlog_sdnotify::notify_receiver> rx;
    std::atomic<bool> stop{false};
    std::thread reader;
    std::shared_ptr<spdlog_sdnotify::dispatcher> dispatch;
    std::shared_ptr<spdlog::logger> logger;
};

receiver_fixture *live = nullptr;
receiver_fixture *stalled = nullptr;

std::map<std::string, double> results;
std::mutex results_mutex;

void latency(benchmark::State &state, receiver_fixture *f) {
    constexpr std::size_t max_samples = 10'000'000;
    std::vector<std::uint32_t> samples;
    samples.reserve(max_samples);
    long i = 0;
    for (auto _ : state) {
        const auto t0 = clock_type::now();
        f->logger->info("request {} done in {} us", ++i, 42);
        const auto ns =
            std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now() - t0);
        if (samples.size() < max_samples) samples.push_back(static_cast<std::uint32_t>(ns.count()));
    }
    std::sort(samples.begin(), samples.end());
    auto pct = [&](double p) {
        return static_cast<double>(
            samples[static_cast<std::size_t>(p * double(samples.size() - 1))]);
    };
    state.counters["p50_ns"] = pct(0.50);
    state.counters["p99_ns"] = pct(0.99);
    state.counters["p999_ns"] = pct(0.999);
    state.counters["max_ns"] = static_cast<double>(samples.back());
    std::lock_guard<std::mutex> lock(results_mutex);
    const std::string name = f == live ? "live" : "stalled";
    results[name + ".p99"] = pct(0.99);
    results[name + ".p999"] = pct(0.999);
    results[name + ".failures"] = static_cast<double>(f->dispatch->stats().failures);
}

void caller_latency_live(benchmark::State &state) { latency(state, live); }
void caller_latency_stalled(benchmark::State &state) { latency(state, stalled); }
BENCHMARK(caller_latency_live)->Iterations(10'000'000)->UseRealTime();
BENCHMARK(caller_latency_stalled)->Iterations(10'000'000)->UseRealTime();

// A million records as fast as possible, then the time for the last one to go out.
void burst_1m(benchmark::State &state) {
    for (auto _ : state) {
        const auto before = live->dispatch->stats().status_sent;
        const auto t0 = clock_type::now();
        for (int i = 1; i <= 1'000'000; ++i) live->logger->info("burst record {}", i);
        const auto burst = clock_type::now() - t0;
        std::this_thread::sleep_for(min_interval * 5);  // the last record goes out
        const auto sent = live->dispatch->stats().status_sent - before;
        const double seconds = std::chrono::duration<double>(burst).count();
        state.counters["burst_s"] = seconds;
        state.counters["datagrams"] = static_cast<double>(sent);
        std::lock_guard<std::mutex> lock(results_mutex);
        results["burst.seconds"] = seconds;
        results["burst.datagrams"] = static_cast<double>(sent);
    }
}
BENCHMARK(burst_1m)->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char **argv) {
    receiver_fixture live_fixture(true), stalled_fixture(false);
    live = &live_fixture;
    stalled = &stalled_fixture;
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    if (results.count("live.p99") && results.count("stalled.p99")) {
        const double ratio = results["stalled.p99"] / results["live.p99"];
        std::printf(
            "\ncaller latency p99: live %.0f ns, stalled %.0f ns (p99.9: %.0f / %.0f ns);"
            " %.0f failed sends while stalled\n",
            results["live.p99"], results["stalled.p99"], results["live.p999"],
            results["stalled.p999"], results["stalled.failures"]);
        std::printf("p99 stalled / p99 live: %.2f (target <= 2) %s\n", ratio,
                    ratio <= 2.0 ? "ok" : "MISSED");
    }
    if (results.count("burst.seconds")) {
        const double bound =
            results["burst.seconds"] / std::chrono::duration<double>(min_interval).count() + 2;
        std::printf("1M-record burst: %.2f s, %.0f STATUS datagrams (bound %.1f) %s\n",
                    results["burst.seconds"], results["burst.datagrams"], bound,
                    results["burst.datagrams"] <= bound ? "ok" : "MISSED");
    }
    benchmark::Shutdown();
    return 0;
}
