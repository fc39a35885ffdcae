// tofu-bench: tofu against raw sockets, ZeroMQ, NNG and asio, side by side in one run.
//   tofu-bench [--quick] [--repeat N] [--json FILE] [--only NAME[,NAME]] [--jobs JOB[,JOB]] [--awake]
//              [--tofu-pool MAX]
// --only and --jobs keep the contenders / jobs whose names start with one of the given prefixes.
// --awake holds a PM QoS request (/dev/cpu_dma_latency = 0, root only) for the run: idle CPUs poll instead
// of halting, the machine's awake regime, without a spinner competing for the CPUs. --tofu-pool sets the
// benchmark engines' maxPoolMsgs (default 65535; the library's default is 64).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <fcntl.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "contender.hpp"

namespace {

enum class Kind { latency, throughput, window, fanin };

const char* kindName(Kind k) {
    switch (k) {
        case Kind::latency:
            return "latency";
        case Kind::throughput:
            return "throughput";
        case Kind::window:
            return "reqresp";
        case Kind::fanin:
            return "fanin";
    }
    return "";
}

struct Row {
    std::string contender;
    std::string job;
    double median_us = 0, p99_us = 0, p999_us = 0;  // latency and request/response jobs
    double msgs_per_s = 0, mb_per_s = 0;            // throughput jobs; requests/s for reqresp and fan-in
    bool ok = true;                                 // false: the repeat failed (kept out of the medians)
};

double pct(std::vector<std::uint64_t>& v, double p) {
    if (v.empty()) {
        return 0;
    }
    const auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return static_cast<double>(v[k]) / 1000.0;
}

// Failed repeats (ok == false rows) are left out by the callers.
double median(std::vector<double> v) {
    if (v.empty()) {
        return 0;
    }
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// What the run's numbers mean depends on the machine's state: the load (other work competes for the CPUs)
// and the regime (whether idle vCPUs halt, which makes every cross-thread hand-off cost a wake-up of
// ~100 µs on this kind of VM, hiding per-message costs, or stay awake, ~6 µs).
struct RunInfo {
    double loadStart = -1, loadEnd = -1;  // 1-minute load average
    unsigned cpus = 0;
    double rawTcpRttUs = 0;  // median 64 B round trip over raw TCP: the run's own when it has the job
    double probeRttUs = 0;   // the same, probed at the start of the run
    bool awake = false;      // the run held /dev/cpu_dma_latency at 0
    std::vector<double> repeatProbeUs;  // the same, probed before each repeat (the regime can change)

    [[nodiscard]] static const char* regimeOf(double rttUs) {
        if (rttUs <= 0) {
            return "unknown";
        }
        return rttUs < 20 ? "awake" : (rttUs > 50 ? "idle-halt" : "mixed");
    }
    [[nodiscard]] const char* regime() const { return regimeOf(rawTcpRttUs); }
};

double loadAverage() {
    double l[1] = {-1};
    return ::getloadavg(l, 1) == 1 ? l[0] : -1;
}

void warnLoad(const char* when, double load) {
    if (load > 0.5) {
        fmt::print(
            stderr,
            "\n*** WARNING: load average {:.2f} at the {} of the run (> 0.5): other work competes for the "
            "CPUs; these figures are not comparable ***\n",
            load, when);
    }
}

// A PM QoS request: while the descriptor stays open, idle CPUs keep to exit latencies of 0 µs, i.e. they
// poll instead of halting (the cpuidle haltpoll and intel_idle drivers honour it). -1 when refused.
int holdCpusAwake() {
    const int fd = ::open("/dev/cpu_dma_latency", O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        fmt::print(stderr, "--awake: /dev/cpu_dma_latency: {} (needs root)\n", std::strerror(errno));
        return -1;
    }
    const std::int32_t zero = 0;
    if (::write(fd, &zero, sizeof zero) != static_cast<ssize_t>(sizeof zero)) {
        fmt::print(stderr, "--awake: writing /dev/cpu_dma_latency: {}\n", std::strerror(errno));
        ::close(fd);
        return -1;
    }
    return fd;
}

double perSecond(std::size_t n, std::uint64_t ns) {
    return ns == 0 ? 0 : static_cast<double>(n) * 1e9 / static_cast<double>(ns);
}

}  // namespace

int main(int argc, char** argv) {
    bool quick = false;
    bool awake = false;
    int repeat = 3;
    std::string json;
    std::vector<std::string> only;
    std::vector<std::string> onlyJobs;
    auto split = [](const std::string& list, std::vector<std::string>& out) {
        for (std::size_t pos = 0; pos <= list.size();) {
            const std::size_t comma = std::min(list.find(',', pos), list.size());
            out.push_back(list.substr(pos, comma - pos));
            pos = comma + 1;
        }
    };
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--quick") {
            quick = true;
            repeat = 1;
        } else if (a == "--repeat" && i + 1 < argc) {
            repeat = std::max(1, std::atoi(argv[++i]));
        } else if (a == "--tofu-pool" && i + 1 < argc) {
            bench::tofuPoolMax = static_cast<std::uint16_t>(std::clamp(std::atoi(argv[++i]), 1, 65535));
        } else if (a == "--awake") {
            awake = true;
        } else if (a == "--json" && i + 1 < argc) {
            json = argv[++i];
        } else if (a == "--only" && i + 1 < argc) {
            split(argv[++i], only);
        } else if (a == "--jobs" && i + 1 < argc) {
            split(argv[++i], onlyJobs);
        } else {
            fmt::print(
                stderr,
                "usage: tofu-bench [--quick] [--repeat N] [--json FILE] [--only NAME,...] [--jobs JOB,...] "
                "[--awake] [--tofu-pool MAX]\n"
                "jobs: rtt 64B, rtt 4KiB, pipelined 64B, pipelined 1KiB, reqresp16 64B, fanin64 64B\n");
            return a == "--help" ? 0 : 2;
        }
    }

    std::vector<bench::Entry> entries;
    bench::addRaw(entries);
    const std::vector<bench::Entry> rawEntries = entries;  // the regime probe runs whatever --only keeps
    bench::addTofu(entries);
    bench::addZmq(entries);
    bench::addNng(entries);
    bench::addAsio(entries);
#ifndef TOFU_BENCH_HAVE_ZMQ
    fmt::print("zmq: not installed (libzmq3-dev), skipped\n");
#endif
#ifndef TOFU_BENCH_HAVE_NNG
    fmt::print("nng: not installed (libnng-dev), skipped\n");
#endif
    if (!only.empty()) {
        std::erase_if(entries, [&](const bench::Entry& e) {
            return std::none_of(only.begin(), only.end(),
                                [&](const std::string& o) { return e.name.starts_with(o); });
        });
    }

    RunInfo info;
    const int qos = awake ? holdCpusAwake() : -1;  // closed by the process's exit
    info.awake = qos >= 0;
    info.cpus = std::thread::hardware_concurrency();
    info.loadStart = loadAverage();
    warnLoad("start", info.loadStart);
    // The median raw/tcp 64 B round trip now (0 without the raw contender): the regime at this moment.
    auto probe = [&rawEntries]() -> double {
        for (const bench::Entry& e : rawEntries) {
            if (e.name == "raw/tcp") {
                try {
                    std::vector<std::uint64_t> s = e.make()->latency(64, 2000, 200);
                    return pct(s, 0.5);
                } catch (const std::exception& ex) {
                    fmt::print(stderr, "raw/tcp regime probe: {}\n", ex.what());
                }
            }
        }
        return 0;
    };
    info.rawTcpRttUs = probe();

    const std::size_t rtts = quick ? 2000 : 20000;
    const std::size_t warm = quick ? 200 : 2000;
    const std::size_t msgs = quick ? 20000 : 200000;
    const std::size_t msgsWarm = msgs / 5;  // pipelined: an untimed flood first, as the other jobs warm up
    const std::size_t outstanding = 16;
    const std::size_t reqs = quick ? 10000 : 100000;  // request/response with `outstanding` in flight
    const std::size_t reqsWarm = quick ? 1000 : 5000;
    const std::size_t clients = 64;
    const std::size_t perClient = quick ? 50 : 500;  // fan-in round trips per client
    struct Job {
        std::string name;
        Kind kind;
        std::size_t payload;
    };
    std::vector<Job> jobs = {
        {"rtt 64B", Kind::latency, 64},          {"rtt 4KiB", Kind::latency, 4096},
        {"pipelined 64B", Kind::throughput, 64}, {"pipelined 1KiB", Kind::throughput, 1024},
        {"reqresp16 64B", Kind::window, 64},     {"fanin64 64B", Kind::fanin, 64}};
    if (!onlyJobs.empty()) {
        std::erase_if(jobs, [&](const Job& j) {
            return std::none_of(onlyJobs.begin(), onlyJobs.end(),
                                [&](const std::string& o) { return j.name.starts_with(o); });
        });
    }

    // Within a job the contenders run one after the other, in reverse order every other repeat, so a drift
    // of the machine during a run does not always favour the ones that come first; medians are reported.
    std::map<std::pair<std::string, std::string>, std::vector<Row>> runs;
    for (int r = 0; r < repeat; ++r) {
        info.repeatProbeUs.push_back(r == 0 ? info.rawTcpRttUs : probe());
        std::vector<bench::Entry> order = entries;
        if (r % 2 == 1) {
            std::reverse(order.begin(), order.end());
        }
        for (const Job& job : jobs) {
            for (const bench::Entry& e : order) {
                fmt::print(stderr, "\r[{}/{}] {:<16} {:<10}", r + 1, repeat, job.name, e.name);
                std::fflush(stderr);
                Row row{e.name, job.name};
                try {
                    std::unique_ptr<bench::Contender> c = e.make();
                    switch (job.kind) {
                        case Kind::latency: {
                            std::vector<std::uint64_t> s = c->latency(job.payload, rtts, warm);
                            row.median_us = pct(s, 0.5);
                            row.p99_us = pct(s, 0.99);
                            row.p999_us = pct(s, 0.999);
                            break;
                        }
                        case Kind::throughput: {
                            row.msgs_per_s = perSecond(msgs, c->throughput(job.payload, msgs, msgsWarm));
                            row.mb_per_s = row.msgs_per_s * static_cast<double>(job.payload) / 1e6;
                            break;
                        }
                        case Kind::window: {
                            bench::WindowResult w = c->window(job.payload, reqs, reqsWarm, outstanding);
                            row.msgs_per_s = perSecond(reqs, w.ns);
                            row.mb_per_s = row.msgs_per_s * static_cast<double>(job.payload) / 1e6;
                            row.median_us = pct(w.samples, 0.5);
                            row.p99_us = pct(w.samples, 0.99);
                            row.p999_us = pct(w.samples, 0.999);
                            break;
                        }
                        case Kind::fanin: {
                            const std::size_t total = clients * perClient;
                            row.msgs_per_s = perSecond(total, c->fanIn(job.payload, clients, perClient));
                            row.mb_per_s = row.msgs_per_s * static_cast<double>(job.payload) / 1e6;
                            break;
                        }
                    }
                } catch (const std::exception& ex) {
                    fmt::print(stderr, "\n{} {}: {}\n", e.name, job.name, ex.what());
                    row = Row{e.name, job.name};
                    row.ok = false;
                }
                runs[{job.name, e.name}].push_back(row);
            }
        }
    }
    fmt::print(stderr, "\r{:60}\r", "");
    info.loadEnd = loadAverage();
    warnLoad("end", info.loadEnd);
    // The regime can change during a run: when the run measured raw/tcp round trips itself, their median
    // names it (the probe at the start is kept beside it).
    info.probeRttUs = info.rawTcpRttUs;
    if (auto it = runs.find({"rtt 64B", "raw/tcp"}); it != runs.end() && !it->second.empty()) {
        std::vector<double> med;
        for (const Row& r : it->second) {
            if (r.ok) {
                med.push_back(r.median_us);
            }
        }
        info.rawTcpRttUs = median(med);
    }

    // Each repeat's figure per job and contender (its median round trip or request in µs, or its rate per
    // second), so the spread behind each median is on record; null for a failed repeat.
    auto eachRepeat = [&runs](const std::string& job, const std::string& who, bool latency) {
        std::string out;
        for (const Row& x : runs[{job, who}]) {
            out += out.empty() ? "" : ", ";
            out += x.ok ? fmt::format("{:.2f}", latency ? x.median_us : x.msgs_per_s) : std::string("null");
        }
        return out;
    };
    // Each repeat's regime by its probe (quoted for the JSON or not).
    auto repeatRegimes = [&info](bool quoted) {
        std::string out;
        for (const double p : info.repeatProbeUs) {
            const char* q = quoted ? "\"" : "";
            out += fmt::format("{}{}{}{}", out.empty() ? "" : ", ", q, RunInfo::regimeOf(p), q);
        }
        return out;
    };
    std::vector<Row> table;
    for (const Job& job : jobs) {
        for (const bench::Entry& e : entries) {
            const std::vector<Row>& rs = runs[{job.name, e.name}];
            Row m{e.name, job.name};
            std::vector<double> a, b, c, d, f;
            for (const Row& x : rs) {
                if (!x.ok) {
                    continue;
                }
                a.push_back(x.median_us);
                b.push_back(x.p99_us);
                c.push_back(x.p999_us);
                d.push_back(x.msgs_per_s);
                f.push_back(x.mb_per_s);
            }
            m.median_us = median(a);
            m.p99_us = median(b);
            m.p999_us = median(c);
            m.msgs_per_s = median(d);
            m.mb_per_s = median(f);
            table.push_back(m);
        }
    }

    auto find = [&](const std::string& job, const std::string& who) -> const Row* {
        for (const Row& r : table) {
            if (r.job == job && r.contender == who) {
                return &r;
            }
        }
        return nullptr;
    };
    fmt::print(
        "{} round trips / {} pipelined messages / {} requests with {} outstanding / {} clients x {} round "
        "trips "
        "per run, median of {} run(s)\n",
        rtts, msgs, reqs, outstanding, clients, perClient, repeat);
    fmt::print(
        "machine: {} CPUs, load {:.2f} at start and {:.2f} at end; regime: {} (raw/tcp 64 B round trip "
        "{:.1f} us; probed before each repeat: {:.1f} us, {}){}\n"
        "ratios: round trips as time (lower is better), the rest as rate (higher is better); the same thread "
        "topology against zmq (tofu: zmq, tofu-1: zmq-1)\n",
        info.cpus, info.loadStart, info.loadEnd, info.regime(), info.rawTcpRttUs,
        fmt::join(info.repeatProbeUs, ", "), repeatRegimes(false),
        info.awake ? "; idle CPUs kept polling (--awake: cpu_dma_latency 0)" : "");
    for (const Job& job : jobs) {
        switch (job.kind) {
            case Kind::latency:
                fmt::print("\n{} (round trip, one at a time)\n", job.name);
                fmt::print("  {:<10} {:>10} {:>10} {:>10} {:>9} {:>9}\n", "", "median us", "p99 us",
                           "p99.9 us", "vs raw", "vs zmq");
                break;
            case Kind::throughput:
                fmt::print("\n{} (one way)\n", job.name);
                fmt::print("  {:<10} {:>12} {:>10} {:>9} {:>9}\n", "", "msgs/s", "MB/s", "vs raw", "vs zmq");
                break;
            case Kind::window:
                fmt::print("\n{} (request/response, {} outstanding, one connection)\n", job.name,
                           outstanding);
                fmt::print("  {:<10} {:>12} {:>10} {:>10} {:>9} {:>9}\n", "", "requests/s", "median us",
                           "p99 us", "vs raw", "vs zmq");
                break;
            case Kind::fanin:
                fmt::print("\n{} ({} clients, one round trip at a time each, one server)\n", job.name,
                           clients);
                fmt::print("  {:<10} {:>12} {:>9} {:>9}\n", "", "requests/s", "vs raw", "vs zmq");
                break;
        }
        for (const bench::Entry& e : entries) {
            const Row* r = find(job.name, e.name);
            const bool uds = e.name.ends_with("uds") || e.name.ends_with("ipc");
            const Row* raw = find(job.name, uds ? "raw/uds" : "raw/tcp");
            // Same thread topology: one I/O thread per end (tofu, zmq, ...) or one for both (tofu-1, zmq-1).
            const bool oneIo = e.name.starts_with("tofu-1") || e.name.starts_with("zmq-1");
            const Row* zmq =
                find(job.name, oneIo ? (uds ? "zmq-1/ipc" : "zmq-1/tcp") : (uds ? "zmq/ipc" : "zmq/tcp"));
            auto ratio = [&](const Row* base, bool lat) {
                if (base == nullptr) {
                    return std::string("-");
                }
                const double x = lat ? (base->median_us > 0 ? r->median_us / base->median_us : 0)
                                     : (base->msgs_per_s > 0 ? r->msgs_per_s / base->msgs_per_s : 0);
                return fmt::format("{:.2f}x", x);
            };
            switch (job.kind) {
                case Kind::latency:
                    fmt::print("  {:<10} {:>10.1f} {:>10.1f} {:>10.1f} {:>9} {:>9}\n", e.name, r->median_us,
                               r->p99_us, r->p999_us, ratio(raw, true), ratio(zmq, true));
                    break;
                case Kind::throughput:
                    fmt::print("  {:<10} {:>12.0f} {:>10.1f} {:>9} {:>9}\n", e.name, r->msgs_per_s,
                               r->mb_per_s, ratio(raw, false), ratio(zmq, false));
                    break;
                case Kind::window:
                    fmt::print("  {:<10} {:>12.0f} {:>10.1f} {:>10.1f} {:>9} {:>9}\n", e.name, r->msgs_per_s,
                               r->median_us, r->p99_us, ratio(raw, false), ratio(zmq, false));
                    break;
                case Kind::fanin:
                    fmt::print("  {:<10} {:>12.0f} {:>9} {:>9}\n", e.name, r->msgs_per_s, ratio(raw, false),
                               ratio(zmq, false));
                    break;
            }
        }
    }
    if (!json.empty()) {
        std::FILE* f = std::fopen(json.c_str(), "w");
        if (f == nullptr) {
            fmt::print(stderr, "cannot write {}: {}\n", json, std::strerror(errno));
            return 1;
        }
        // msgs_per_s holds requests/s for the reqresp and fanin kinds.
        fmt::print(
            f,
            "{{\"run\": {{\"cpus\": {}, \"load_start\": {:.2f}, \"load_end\": {:.2f}, \"regime\": \"{}\", "
            "\"raw_tcp_rtt_us\": {:.2f}, \"probe_rtt_us\": {:.2f}, \"cpu_dma_latency_0\": {}, \"repeat\": "
            "{}, "
            "\"quick\": {}, \"repeat_probe_rtt_us\": [{:.2f}], \"repeat_regimes\": [{}], "
            "\"tofu_pool_max\": {}}},\n\"rows\": [\n",
            info.cpus, info.loadStart, info.loadEnd, info.regime(), info.rawTcpRttUs, info.probeRttUs,
            info.awake ? "true" : "false", repeat, quick ? "true" : "false",
            fmt::join(info.repeatProbeUs, ", "), repeatRegimes(true), bench::tofuPoolMax);
        for (std::size_t i = 0; i < table.size(); ++i) {
            const Row& r = table[i];
            const Job& job =
                *std::find_if(jobs.begin(), jobs.end(), [&](const Job& j) { return j.name == r.job; });
            fmt::print(
                f,
                "  {{\"contender\": \"{}\", \"job\": \"{}\", \"kind\": \"{}\", \"payload\": {}, "
                "\"median_us\": {:.2f}, \"p99_us\": {:.2f}, \"p999_us\": {:.2f}, \"msgs_per_s\": {:.0f}, "
                "\"mb_per_s\": {:.2f}, \"each_repeat\": [{}]{}}}{}\n",
                r.contender, r.job, kindName(job.kind), job.payload, r.median_us, r.p99_us, r.p999_us,
                r.msgs_per_s, r.mb_per_s, eachRepeat(r.job, r.contender, job.kind == Kind::latency),
                job.kind == Kind::window
                    ? fmt::format(", \"each_repeat_us\": [{}]", eachRepeat(r.job, r.contender, true))
                    : std::string(),
                i + 1 < table.size() ? "," : "");
        }
        fmt::print(f, "]}}\n");
        std::fclose(f);
    }
    return 0;
}
