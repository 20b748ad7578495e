// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)

// What a log record costs the logging thread, in one run so the figures compare:
//   null_sink      spdlog's null_sink_mt, the floor
//   forwarded      status_sink_mt, a record it forwards (to a live receiver)
//   below_level    status_sink_mt, a record below the sink's level
//   naive          a sink that sends one datagram per record through the same notifier
// plus heap allocations per record on the logging thread (operator new is counted here).
// Ends with the ratios and the targets. Run: scripts/bench.sh
#include <spdlog_sdnotify/receiver.h>
#include <spdlog_sdnotify/status_sink.h>

#include <benchmark/benchmark.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <stdlib.h>
#include <unistd.h>

#ifdef BENCH_WITH_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include <atomic>
#include <cstdio>
#include <map>
#include <new>
#include <string>
#include <thread>

// ---------------------------------------------------------------- allocation counting
namespace {
thread_local std::uint64_t t_allocations = 0;
}
void *operator new(std::size_t n) {
    ++t_allocations;
    if (void *p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void *operator new[](std::size_t n) { return operator new(n); }
void *operator new(std::size_t n, const std::nothrow_t &) noexcept {
    ++t_allocations;
    return std::malloc(n ? n : 1);
}
void *operator new[](std::size_t n, const std::nothrow_t &t) noexcept { return operator new(n, t); }
void operator delete(void *p) noexcept { std::free(p); }
void operator delete[](void *p) noexcept { std::free(p); }
void operator delete(void *p, std::size_t) noexcept { std::free(p); }
void operator delete[](void *p, std::size_t) noexcept { std::free(p); }

namespace {

// ---------------------------------------------------------------- a live receiver
struct live_receiver {
    live_receiver() {
        char tmpl[] = "/tmp/sdnotify-bench-XXXXXX";
        dir = mkdtemp(tmpl);
        std::error_code ec;
        rx = std::make_unique<spdlog_sdnotify::notify_receiver>(dir + "/notify", ec);
        if (ec) {
            std::fprintf(stderr, "bench: cannot bind receiver: %s\n", ec.message().c_str());
            std::exit(1);
        }
        reader = std::thread([this] {
            while (!stop) {
                if (rx->receive(std::chrono::milliseconds(20))) ++received;
            }
        });
    }
    ~live_receiver() {
        stop = true;
        reader.join();
        rx.reset();
        rmdir(dir.c_str());
    }
    std::string dir;
    std::unique_ptr<spdlog_sdnotify::notify_receiver> rx;
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> received{0};
    std::thread reader;
};

live_receiver *receiver = nullptr;

std::shared_ptr<spdlog_sdnotify::notifier> bench_notifier() {
    static auto n = std::make_shared<spdlog_sdnotify::notifier>(receiver->rx->address());
    return n;
}

std::shared_ptr<spdlog_sdnotify::dispatcher> bench_dispatcher() {
    static auto d = std::make_shared<spdlog_sdnotify::dispatcher>(bench_notifier());
    return d;
}

std::atomic<std::uint64_t> naive_sent{0}, naive_failed{0};

// One datagram per record: what a sink without a dispatcher does.
class naive_sink final : public spdlog::sinks::base_sink<std::mutex> {
protected:
    void sink_it_(const spdlog::details::log_msg &msg) override {
        const auto r =
            bench_notifier()->status(std::string_view(msg.payload.data(), msg.payload.size()));
        ++(r.is_sent() ? naive_sent : naive_failed);
    }
    void flush_() override {}
};

template <typename Log>
void run(benchmark::State &state, spdlog::sink_ptr sink, Log &&log) {
    spdlog::logger logger("bench", std::move(sink));
    logger.set_level(spdlog::level::trace);
    for (int i = 0; i < 1000; ++i) log(logger, i);  // warm up: buffers reach their size
    const std::uint64_t before = t_allocations;
    int i = 0;
    for (auto _ : state) log(logger, ++i);
    state.counters["allocs_per_record"] =
        static_cast<double>(t_allocations - before) / static_cast<double>(state.iterations());
}

auto info = [](spdlog::logger &l, int i) { l.info("processed request {} in {} us", i, 42); };
auto debug = [](spdlog::logger &l, int i) { l.debug("processed request {} in {} us", i, 42); };

void null_sink(benchmark::State &state) {
    run(state, std::make_shared<spdlog::sinks::null_sink_mt>(), info);
}
void forwarded(benchmark::State &state) {
    spdlog_sdnotify::status_sink_config c;
    c.dispatcher = bench_dispatcher();
    run(state, std::make_shared<spdlog_sdnotify::status_sink_mt>(c), info);
}
void below_level(benchmark::State &state) {
    spdlog_sdnotify::status_sink_config c;
    c.dispatcher = bench_dispatcher();
    run(state, std::make_shared<spdlog_sdnotify::status_sink_mt>(c), debug);
}
void naive(benchmark::State &state) { run(state, std::make_shared<naive_sink>(), info); }

#ifdef BENCH_WITH_LIBSYSTEMD
// The same, through libsystemd's sd_notify(): a new socket per call.
class libsystemd_sink final : public spdlog::sinks::base_sink<std::mutex> {
protected:
    void sink_it_(const spdlog::details::log_msg &msg) override {
        text_.assign("STATUS=").append(msg.payload.data(), msg.payload.size());
        sd_notify(0, text_.c_str());
    }
    void flush_() override {}
    std::string text_;
};
void naive_libsystemd(benchmark::State &state) {
    setenv("NOTIFY_SOCKET", receiver->rx->address().c_str(), 1);
    run(state, std::make_shared<libsystemd_sink>(), info);
}
BENCHMARK(naive_libsystemd);
#endif

BENCHMARK(null_sink);
BENCHMARK(forwarded);
BENCHMARK(below_level);
BENCHMARK(naive);

// Keeps each benchmark's per-record time (the median when repeated) for the ratio table.
class collecting_reporter : public benchmark::ConsoleReporter {
public:
    void ReportRuns(const std::vector<Run> &runs) override {
        ConsoleReporter::ReportRuns(runs);
        for (const auto &r : runs) {
            const bool repeated = r.repetitions > 1;
            if (repeated && r.aggregate_name != "median") continue;
            if (r.run_type == Run::RT_Iteration && repeated) continue;
            const std::string name = r.run_name.function_name;
            ns[name] = r.GetAdjustedRealTime();
            auto a = r.counters.find("allocs_per_record");
            if (a != r.counters.end()) allocs[name] = a->second.value;
        }
    }
    std::map<std::string, double> ns, allocs;
};

}  // namespace

int main(int argc, char **argv) {
    live_receiver live;
    receiver = &live;
    benchmark::Initialize(&argc, argv);
    collecting_reporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    const auto stats = bench_dispatcher()->stats();

    auto &ns = reporter.ns;
    if (ns.count("null_sink") && ns.count("forwarded") && ns.count("below_level") &&
        ns.count("naive")) {
        const double fwd = ns["forwarded"] / ns["null_sink"];
        const double below = ns["below_level"] / ns["null_sink"];
        const double naive_x = ns["naive"] / ns["forwarded"];
        const double allocs = reporter.allocs["forwarded"];
        std::printf(
            "\nper record, this run: null_sink %.1f ns, forwarded %.1f ns, below level "
            "%.1f ns, naive %.1f ns\n",
            ns["null_sink"], ns["forwarded"], ns["below_level"], ns["naive"]);
        std::printf("%-44s %8s %10s %s\n", "ratio", "measured", "target", "");
        auto row = [](const char *what, double v, const char *target, bool ok) {
            std::printf("%-44s %8.2f %10s %s\n", what, v, target, ok ? "ok" : "MISSED");
        };
        row("forwarded / null_sink_mt", fwd, "<= 1.5", fwd <= 1.5);
        row("below level / null_sink_mt", below, "<= 1.1", below <= 1.1);
        row("naive one-datagram-per-record / forwarded", naive_x, ">= 50", naive_x >= 50);
        row("heap allocations per forwarded record", allocs, "0", allocs == 0);
        std::printf("naive / null_sink_mt: %.1f (the most any sink could reach against naive)\n",
                    ns["naive"] / ns["null_sink"]);
        if (ns.count("naive_libsystemd"))
            std::printf("libsystemd sd_notify() per record / forwarded: %.1f\n",
                        ns["naive_libsystemd"] / ns["forwarded"]);
        std::printf("dispatcher: %llu records posted, %llu STATUS datagrams sent, %llu wake-ups\n",
                    static_cast<unsigned long long>(stats.posted),
                    static_cast<unsigned long long>(stats.status_sent),
                    static_cast<unsigned long long>(stats.wakeups));
    }
    std::printf(
        "naive sink: %llu datagrams sent, %llu failed (EAGAIN: the receiver's queue "
        "was full)\n",
        static_cast<unsigned long long>(naive_sent.load()),
        static_cast<unsigned long long>(naive_failed.load()));
    benchmark::Shutdown();
    return 0;
}
