// tofu-bench: tofu against raw sockets, ZeroMQ, NNG and asio, side by side in one run.
//   tofu-bench [--quick] [--repeat N] [--json FILE] [--only NAME[,NAME]]
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "contender.hpp"

namespace bench {

std::uint16_t freePort() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

std::string udsPath() {
    static std::atomic<int> n{0};
    return fmt::format("/tmp/tofu-bench-{}-{}.sock", ::getpid(), n++);
}

}  // namespace bench

namespace {

struct Row {
    std::string contender;
    std::string job;
    double median_us = 0, p99_us = 0, p999_us = 0;  // latency jobs
    double msgs_per_s = 0, mb_per_s = 0;            // throughput jobs
};

double pct(std::vector<std::uint64_t>& v, double p) {
    if (v.empty()) {
        return 0;
    }
    const auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return static_cast<double>(v[k]) / 1000.0;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    bool quick = false;
    int repeat = 3;
    std::string json;
    std::vector<std::string> only;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--quick") {
            quick = true;
            repeat = 1;
        } else if (a == "--repeat" && i + 1 < argc) {
            repeat = std::max(1, std::atoi(argv[++i]));
        } else if (a == "--json" && i + 1 < argc) {
            json = argv[++i];
        } else if (a == "--only" && i + 1 < argc) {
            std::string list = argv[++i];
            for (std::size_t pos = 0; pos <= list.size();) {
                const std::size_t comma = std::min(list.find(',', pos), list.size());
                only.push_back(list.substr(pos, comma - pos));
                pos = comma + 1;
            }
        } else {
            fmt::print(stderr, "usage: tofu-bench [--quick] [--repeat N] [--json FILE] [--only NAME,...]\n");
            return a == "--help" ? 0 : 2;
        }
    }

    std::vector<bench::Entry> entries;
    bench::addRaw(entries);
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

    const std::size_t rtts = quick ? 2000 : 20000;
    const std::size_t warm = quick ? 200 : 2000;
    const std::size_t msgs = quick ? 20000 : 200000;
    struct Job {
        std::string name;
        bool latency;
        std::size_t payload;
    };
    const std::vector<Job> jobs = {{"rtt 64B", true, 64},
                                   {"rtt 4KiB", true, 4096},
                                   {"pipelined 64B", false, 64},
                                   {"pipelined 1KiB", false, 1024}};

    // Repeats alternate the contenders so machine noise spreads over all of them; medians are reported.
    std::map<std::pair<std::string, std::string>, std::vector<Row>> runs;
    for (int r = 0; r < repeat; ++r) {
        for (const Job& job : jobs) {
            for (const bench::Entry& e : entries) {
                fmt::print(stderr, "\r[{}/{}] {:<16} {:<10}", r + 1, repeat, job.name, e.name);
                std::fflush(stderr);
                Row row{e.name, job.name};
                try {
                    std::unique_ptr<bench::Contender> c = e.make();
                    if (job.latency) {
                        std::vector<std::uint64_t> s = c->latency(job.payload, rtts, warm);
                        row.median_us = pct(s, 0.5);
                        row.p99_us = pct(s, 0.99);
                        row.p999_us = pct(s, 0.999);
                    } else {
                        const std::uint64_t ns = c->throughput(job.payload, msgs);
                        row.msgs_per_s = static_cast<double>(msgs) * 1e9 / static_cast<double>(ns);
                        row.mb_per_s = row.msgs_per_s * static_cast<double>(job.payload) / 1e6;
                    }
                } catch (const std::exception& ex) {
                    fmt::print(stderr, "\n{} {}: {}\n", e.name, job.name, ex.what());
                }
                runs[{job.name, e.name}].push_back(row);
            }
        }
    }
    fmt::print(stderr, "\r{:60}\r", "");

    std::vector<Row> table;
    for (const Job& job : jobs) {
        for (const bench::Entry& e : entries) {
            const std::vector<Row>& rs = runs[{job.name, e.name}];
            Row m{e.name, job.name};
            std::vector<double> a, b, c, d, f;
            for (const Row& x : rs) {
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
    fmt::print("{} round trips / {} pipelined messages per run, median of {} run(s)\n", rtts, msgs, repeat);
    for (const Job& job : jobs) {
        fmt::print("\n{}\n", job.name);
        if (job.latency) {
            fmt::print("  {:<10} {:>10} {:>10} {:>10} {:>9} {:>9}\n", "", "median us", "p99 us", "p99.9 us",
                       "vs raw", "vs zmq");
        } else {
            fmt::print("  {:<10} {:>12} {:>10} {:>9} {:>9}\n", "", "msgs/s", "MB/s", "vs raw", "vs zmq");
        }
        for (const bench::Entry& e : entries) {
            const Row* r = find(job.name, e.name);
            const bool uds = e.name.ends_with("uds") || e.name.ends_with("ipc");
            const Row* raw = find(job.name, uds ? "raw/uds" : "raw/tcp");
            const Row* zmq = find(job.name, uds ? "zmq/ipc" : "zmq/tcp");
            auto ratio = [&](const Row* base, bool lat) {
                if (base == nullptr) {
                    return std::string("-");
                }
                const double x = lat ? (base->median_us > 0 ? r->median_us / base->median_us : 0)
                                     : (base->msgs_per_s > 0 ? r->msgs_per_s / base->msgs_per_s : 0);
                return fmt::format("{:.2f}x", x);
            };
            if (job.latency) {
                fmt::print("  {:<10} {:>10.1f} {:>10.1f} {:>10.1f} {:>9} {:>9}\n", e.name, r->median_us,
                           r->p99_us, r->p999_us, ratio(raw, true), ratio(zmq, true));
            } else {
                fmt::print("  {:<10} {:>12.0f} {:>10.1f} {:>9} {:>9}\n", e.name, r->msgs_per_s, r->mb_per_s,
                           ratio(raw, false), ratio(zmq, false));
            }
        }
    }
    if (!json.empty()) {
        std::FILE* f = std::fopen(json.c_str(), "w");
        if (f != nullptr) {
            fmt::print(f, "[\n");
            for (std::size_t i = 0; i < table.size(); ++i) {
                const Row& r = table[i];
                fmt::print(
                    f,
                    "  {{\"contender\": \"{}\", \"job\": \"{}\", \"median_us\": {:.2f}, \"p99_us\": {:.2f}, "
                    "\"p999_us\": {:.2f}, \"msgs_per_s\": {:.0f}, \"mb_per_s\": {:.2f}}}{}\n",
                    r.contender, r.job, r.median_us, r.p99_us, r.p999_us, r.msgs_per_s, r.mb_per_s,
                    i + 1 < table.size() ? "," : "");
            }
            fmt::print(f, "]\n");
            std::fclose(f);
        }
    }
    return 0;
}
