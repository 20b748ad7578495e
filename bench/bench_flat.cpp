// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)

// Flat cost: what the status sink and the lifecycle add to the set-ups the README recommends,
// each against the same set-up without them, in one run so that the ratios compare (medians of
// interleaved repetitions). Every logger has a null_sink_mt of its own, standing in for the
// console or file sink it would have anyway. Heap allocations per record are counted on the
// logging threads (operator new is replaced here). Run: scripts/bench.sh
//   single            one thread: status sink vs a second null_sink_mt; vs a lone null_sink_mt
//   single_summary    one thread: the status sink with status_sink_config::summary vs without
//   order/N           N threads on own loggers, each record also taking a number from one
//                     shared counter (what details::status_order() costs) vs the same without
//   same_text         one thread logging the same text again and again (nothing new to send)
//   below_level       a record below the status sink's level
//   own_loggers/N     N threads, each on its own logger, all sharing one status sink
//                     (what attach_all() does) vs the same loggers without it
//   one_logger/8      8 threads on one logger: status sink vs a second null_sink_mt
//   full              status sink + lifecycle (ready/reload/stop/fatal rules, in state ready)
//   full_regex        the same with two rule::regex() rules
//   full_service      the same rules through spdlog_sdnotify::service (one sink for both)
//   file_service      a logger writing to a file (basic_file_sink_mt, on tmpfs where there is
//                     one) with `service` vs the same logger without it: the cost as a real
//                     service sees it
#include <spdlog_sdnotify/receiver.h>
#include <spdlog_sdnotify/spdlog_sdnotify.h>

#include <benchmark/benchmark.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <thread>
#include <utility>
#include <vector>

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

using spdlog_sdnotify::rule;

// A receiver that reads everything, as PID 1 would.
struct live_receiver {
    live_receiver() {
        char tmpl[] = "/tmp/sdnotify-flat-XXXXXX";
        dir = mkdtemp(tmpl);
        std::error_code ec;
        rx = std::make_unique<spdlog_sdnotify::notify_receiver>(dir + "/notify", ec);
        if (ec) std::abort();
        reader = std::thread([this] {
            while (!stop) rx->receive(std::chrono::milliseconds(20));
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
    std::thread reader;
};
live_receiver *g_receiver = nullptr;

std::shared_ptr<spdlog_sdnotify::dispatcher> dispatcher_to_receiver() {
    return std::make_shared<spdlog_sdnotify::dispatcher>(
        std::make_shared<spdlog_sdnotify::notifier>(g_receiver->rx->address()));
}
std::shared_ptr<spdlog_sdnotify::status_sink_mt> status_sink_to(
    std::shared_ptr<spdlog_sdnotify::dispatcher> d) {
    spdlog_sdnotify::status_sink_config c;
    c.dispatcher = std::move(d);
    return std::make_shared<spdlog_sdnotify::status_sink_mt>(c);
}

std::shared_ptr<spdlog_sdnotify::dispatcher> bench_dispatcher() {
    static auto d = dispatcher_to_receiver();
    return d;
}
std::shared_ptr<spdlog_sdnotify::status_sink_mt> shared_status_sink() {
    static auto sink = status_sink_to(bench_dispatcher());
    return sink;
}

// The README's rules (ready/reload/stop/failure); `regex`: two of them as rule::regex().
void readme_rules(spdlog_sdnotify::lifecycle_config &c, bool regex) {
    c.dispatcher = bench_dispatcher();
    c.attach_to_all = false;
    c.ready_when = rule::contains("listening on");
    c.reloading_when = regex ? rule::regex("reload(ing)? configuration")
                             : rule::contains("reloading configuration");
    c.reloaded_when = rule::contains("configuration reloaded");
    c.stopping_when =
        regex ? rule::regex("shutting down|terminating") : rule::contains("shutting down");
    c.failure_when = rule::any_at_least(spdlog::level::critical);
}

// A lifecycle with those rules, on a sink of its own.
std::unique_ptr<spdlog_sdnotify::lifecycle> make_lifecycle(bool regex) {
    spdlog_sdnotify::lifecycle_config c;
    readme_rules(c, regex);
    return std::make_unique<spdlog_sdnotify::lifecycle>(c);
}

enum class records { differ, below_level, same };

void log_records(benchmark::State &state, spdlog::logger &logger, records kind = records::differ) {
    for (int i = 0; i < 1000; ++i)  // warm
        logger.info("processed request {} in {} us", kind == records::same ? 7 : i, 42);
    const std::uint64_t before = t_allocations;
    int i = 0;
    switch (kind) {
        case records::differ:
            for (auto _ : state) logger.info("processed request {} in {} us", ++i, 42);
            break;
        case records::below_level:
            for (auto _ : state) logger.debug("processed request {} in {} us", ++i, 42);
            break;
        case records::same:  // a service that says the same thing again and again
            for (auto _ : state) logger.info("processed request {} in {} us", 7, 42);
            break;
    }
    state.counters["allocs_per_record"] = benchmark::Counter(
        static_cast<double>(t_allocations - before) / static_cast<double>(state.iterations()),
        benchmark::Counter::kAvgThreads);
}

spdlog::sink_ptr null_sink() { return std::make_shared<spdlog::sinks::null_sink_mt>(); }

// ---- one thread
void single_base(benchmark::State &state) {
    spdlog::logger l("bench", {null_sink(), null_sink()});
    log_records(state, l);
}
void single_alone(benchmark::State &state) {
    spdlog::logger l("bench", null_sink());
    log_records(state, l);
}
void single_status(benchmark::State &state) {
    spdlog::logger l("bench", {null_sink(), shared_status_sink()});
    log_records(state, l);
}
void single_summary(benchmark::State &state) {
    static auto sink = [] {
        spdlog_sdnotify::status_sink_config c;
        c.dispatcher = bench_dispatcher();
        c.summary = true;
        return std::make_shared<spdlog_sdnotify::status_sink_mt>(c);
    }();
    spdlog::logger l("bench", {null_sink(), sink});
    log_records(state, l);
}
// The publication order's shared counter alone, on loggers that share nothing else.
struct counting_null_sink final : spdlog::sinks::sink {
    void log(const spdlog::details::log_msg &) override {
        benchmark::DoNotOptimize(order().fetch_add(1, std::memory_order_relaxed));
    }
    void flush() override {}
    void set_pattern(const std::string &) override {}
    void set_formatter(std::unique_ptr<spdlog::formatter>) override {}
    static std::atomic<std::uint64_t> &order() {
        alignas(64) static std::atomic<std::uint64_t> counter{0};
        return counter;
    }
};
void order_base(benchmark::State &state) {
    spdlog::logger l("bench", {null_sink(), null_sink()});
    log_records(state, l);
}
void order_counter(benchmark::State &state) {
    spdlog::logger l("bench", {null_sink(), std::make_shared<counting_null_sink>()});
    log_records(state, l);
}
void single_status_only(benchmark::State &state) {
    spdlog::logger l("bench", shared_status_sink());
    log_records(state, l);
}
void same_text_base(benchmark::State &state) {
    spdlog::logger l("bench", {null_sink(), null_sink()});
    log_records(state, l, records::same);
}
void same_text_status(benchmark::State &state) {
    // A dispatcher of its own, which sees nothing but that text (the others' texts would keep
    // its sender busy): after the first send, nothing new arrives for the rest of the run.
    static auto sink = status_sink_to(dispatcher_to_receiver());
    spdlog::logger l("bench", {null_sink(), sink});
    log_records(state, l, records::same);
}
void below_level_base(benchmark::State &state) {
    spdlog::logger l("bench", {null_sink(), null_sink()});
    l.set_level(spdlog::level::debug);
    log_records(state, l, records::below_level);
}
void below_level_status(benchmark::State &state) {
    spdlog::logger l("bench", {null_sink(), shared_status_sink()});
    l.set_level(spdlog::level::debug);
    log_records(state, l, records::below_level);
}

// ---- N threads, each on its own logger
void own_loggers_base(benchmark::State &state) {
    spdlog::logger l("bench", null_sink());
    log_records(state, l);
}
void own_loggers_status(benchmark::State &state) {
    spdlog::logger l("bench", {null_sink(), shared_status_sink()});
    log_records(state, l);
}

// ---- 8 threads on one logger
std::shared_ptr<spdlog::logger> one_logger(bool status) {
    static auto base = std::make_shared<spdlog::logger>(
        "one-base", spdlog::sinks_init_list{null_sink(), null_sink()});
    static auto with = std::make_shared<spdlog::logger>(
        "one-status", spdlog::sinks_init_list{null_sink(), shared_status_sink()});
    return status ? with : base;
}
void one_logger_base(benchmark::State &state) { log_records(state, *one_logger(false)); }
void one_logger_status(benchmark::State &state) { log_records(state, *one_logger(true)); }

// ---- the README's full set-up
void full_base(benchmark::State &state) {
    spdlog::logger l("bench", null_sink());
    log_records(state, l);
}
void full_with(benchmark::State &state, bool regex) {
    auto life = make_lifecycle(regex);
    auto l = std::make_shared<spdlog::logger>(
        "bench", spdlog::sinks_init_list{null_sink(), shared_status_sink()});
    life->attach(l);
    l->info("listening on port 8080");  // ready: the steady state
    log_records(state, *l);
}
void full(benchmark::State &state) { full_with(state, false); }
void full_regex(benchmark::State &state) { full_with(state, true); }
// The same rules through spdlog_sdnotify::service: one sink on the logger for both.
void full_service_with(benchmark::State &state, bool regex) {
    spdlog_sdnotify::service_config c;
    c.status.dispatcher = bench_dispatcher();
    readme_rules(c.lifecycle, regex);
    spdlog_sdnotify::service notify(c);
    auto l = std::make_shared<spdlog::logger>("bench", null_sink());
    notify.attach(l);
    l->info("listening on port 8080");
    log_records(state, *l);
}
void full_service(benchmark::State &state) { full_service_with(state, false); }
void full_service_regex(benchmark::State &state) { full_service_with(state, true); }

// ---- a logger writing to a file, with and without `service`
std::string log_file() {
    const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    return std::string(dir) + "/spdlog_sdnotify-flat-" + std::to_string(getpid()) + ".log";
}
void file_base(benchmark::State &state) {
    spdlog::logger l("bench",
                     std::make_shared<spdlog::sinks::basic_file_sink_mt>(log_file(), true));
    log_records(state, l);
    unlink(log_file().c_str());
}
void file_service(benchmark::State &state) {
    spdlog_sdnotify::service_config c;
    c.status.dispatcher = bench_dispatcher();
    readme_rules(c.lifecycle, false);
    spdlog_sdnotify::service notify(c);
    auto l = std::make_shared<spdlog::logger>(
        "bench", std::make_shared<spdlog::sinks::basic_file_sink_mt>(log_file(), true));
    notify.attach(l);
    l->info("listening on port 8080");
    log_records(state, *l);
    unlink(log_file().c_str());
}

BENCHMARK(single_base);
BENCHMARK(single_alone);
BENCHMARK(single_status);
BENCHMARK(single_status_only);
BENCHMARK(single_summary);
BENCHMARK(order_base)->Threads(2)->Threads(8)->UseRealTime();
BENCHMARK(order_counter)->Threads(2)->Threads(8)->UseRealTime();
BENCHMARK(same_text_base);
BENCHMARK(same_text_status);
BENCHMARK(below_level_base);
BENCHMARK(below_level_status);
BENCHMARK(own_loggers_base)->Threads(2)->Threads(8)->UseRealTime();
BENCHMARK(own_loggers_status)->Threads(2)->Threads(8)->UseRealTime();
BENCHMARK(one_logger_base)->Threads(8)->UseRealTime();
BENCHMARK(one_logger_status)->Threads(8)->UseRealTime();
BENCHMARK(full_base);
BENCHMARK(full);
BENCHMARK(full_regex);
BENCHMARK(full_service);
BENCHMARK(full_service_regex);
BENCHMARK(file_base);
BENCHMARK(file_service);

// Keeps each benchmark's median time per record and allocations for the table, and the time of
// every repetition: with --benchmark_enable_random_interleaving, repetition k of every
// benchmark runs in the same round, so with/base ratios are taken round by round (a drift of
// the machine between rounds then cancels out) and their median is reported beside the ratio
// of the medians. Prints only the aggregates when there are repetitions.
class collecting_reporter : public benchmark::ConsoleReporter {
public:
    void ReportRuns(const std::vector<Run> &runs) override {
        std::vector<Run> shown;
        for (const auto &r : runs) {
            const bool repeated = r.repetitions > 1;
            std::string name = r.run_name.function_name;
            if (r.threads > 1) name += "/" + std::to_string(r.threads);
            if (r.run_type == Run::RT_Iteration) {
                rounds[name].push_back(r.GetAdjustedRealTime());
                auto a = r.counters.find("allocs_per_record");
                if (a != r.counters.end()) allocs[name] = std::max(allocs[name], a->second.value);
                if (repeated) continue;
            } else if (r.aggregate_name != "median") {
                continue;
            }
            ns[name] = r.GetAdjustedRealTime();
            shown.push_back(r);
        }
        ConsoleReporter::ReportRuns(shown);
    }
    std::map<std::string, double> ns, allocs;
    std::map<std::string, std::vector<double>> rounds;
};

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

int main(int argc, char **argv) {
    live_receiver live;
    g_receiver = &live;
    benchmark::Initialize(&argc, argv);
    collecting_reporter rep;
    benchmark::RunSpecifiedBenchmarks(&rep);
    auto &ns = rep.ns;
    bool all_met = true;
    std::printf("\n%-58s %8s %8s %8s %s\n", "set-up (this run)", "medians", "rounds", "target", "");
    // The verdict uses the round-by-round ratio when there were repetitions.
    auto row = [&](const char *what, const std::string &with, const std::string &base,
                   double target) {
        if (!ns.count(with) || !ns.count(base)) return;
        const double of_medians = ns[with] / ns[base];
        double paired = of_medians;
        const auto &w = rep.rounds[with], &b = rep.rounds[base];
        if (w.size() > 1 && w.size() == b.size()) {
            std::vector<double> r;
            for (std::size_t k = 0; k < w.size(); ++k) r.push_back(w[k] / b[k]);
            paired = median(r);
        }
        const bool ok = paired <= target;
        all_met = all_met && ok;
        std::printf("%-58s %8.2f %8.2f %8.2f %s\n", what, of_medians, paired, target,
                    ok ? "ok" : "MISSED");
    };
    row("1 thread: + status sink vs + second null_sink_mt", "single_status", "single_base", 1.15);
    row("1 thread: status sink with summary vs without", "single_summary", "single_status", 1.05);
    row("2 threads: + one shared counter (publication order) vs without", "order_counter/2",
        "order_base/2", 1.3);
    row("8 threads: + one shared counter (publication order) vs without", "order_counter/8",
        "order_base/8", 1.3);
    row("1 thread: status sink alone vs null_sink_mt alone (stretch)", "single_status_only",
        "single_alone", 1.0);
    row("1 thread: the same text every record", "same_text_status", "same_text_base", 1.1);
    row("1 thread: record below the sink's level", "below_level_status", "below_level_base", 1.05);
    row("2 threads, own loggers, shared status sink", "own_loggers_status/2", "own_loggers_base/2",
        1.3);
    row("8 threads, own loggers, shared status sink", "own_loggers_status/8", "own_loggers_base/8",
        1.3);
    row("8 threads, one logger: status sink vs second null_sink_mt", "one_logger_status/8",
        "one_logger_base/8", 1.3);
    row("full set-up: status sink + lifecycle (contains rules)", "full", "full_base", 1.3);
    row("full set-up with two regex rules", "full_regex", "full_base", 2.0);
    row("full set-up as one `service` sink (contains rules)", "full_service", "full_base", 1.3);
    row("full set-up as one `service` sink, two regex rules", "full_service_regex", "full_base",
        2.0);
    row("file sink: + `service` (contains rules) vs the file sink alone", "file_service",
        "file_base", 1.08);
    double worst_allocs = 0;
    for (const auto &[name, a] : rep.allocs) worst_allocs = std::max(worst_allocs, a);
    std::printf("%-58s %8.3f %8s %8s %s\n", "heap allocations per record, worst set-up",
                worst_allocs, "", "0", worst_allocs == 0 ? "ok" : "MISSED");
    std::printf(
        "per record: single_base %.1f ns, single_status %.1f ns, full %.1f ns, "
        "full_regex %.1f ns, file_base %.1f ns, file_service %.1f ns\n",
        ns["single_base"], ns["single_status"], ns["full"], ns["full_regex"], ns["file_base"],
        ns["file_service"]);
    benchmark::Shutdown();
    return 0;  // a report, not a gate: this machine is shared and noisy
}
