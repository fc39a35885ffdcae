// tofu-alloc-count: heap allocations per message in steady state. Global operator new/delete are replaced
// by counting versions; tofu runs over UDS and TCP (server and client engines in this process), warms up,
// then counts every allocation in the process (application and reactor threads) during the measured phase.
//   tofu-alloc-count [--warmup N] [--count N] [--payload BYTES]
#include <fmt/format.h>
#include <tofu/tofu.hpp>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <string>

#include "tofu_session.hpp"

namespace {

// Who allocates: 0 = any other thread (the reactors), 1 = client application thread, 2 = server application.
constexpr int kThreads = 3;
thread_local int tRole = 0;
std::atomic<std::uint64_t> gAllocs[kThreads];
std::atomic<std::uint64_t> gBytes{0};

void* counted(std::size_t n, std::size_t align) noexcept {
    gAllocs[tRole].fetch_add(1, std::memory_order_relaxed);
    gBytes.fetch_add(n, std::memory_order_relaxed);
    if (n == 0) {
        n = 1;
    }
    if (align <= alignof(std::max_align_t)) {
        return std::malloc(n);
    }
    void* p = nullptr;
    return ::posix_memalign(&p, align, n) == 0 ? p : nullptr;
}

void* countedOrThrow(std::size_t n, std::size_t align) {
    void* p = counted(n, align);
    if (p == nullptr) {
        throw std::bad_alloc();
    }
    return p;
}

}  // namespace

void* operator new(std::size_t n) {
    return countedOrThrow(n, 0);
}
void* operator new[](std::size_t n) {
    return countedOrThrow(n, 0);
}
void* operator new(std::size_t n, std::align_val_t a) {
    return countedOrThrow(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a) {
    return countedOrThrow(n, static_cast<std::size_t>(a));
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    return counted(n, 0);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
    return counted(n, 0);
}
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
    return counted(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
    return counted(n, static_cast<std::size_t>(a));
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete[](void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
    std::free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
    std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
    std::free(p);
}
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
    std::free(p);
}

namespace {

struct Snapshot {
    std::uint64_t allocs[kThreads] = {};
    std::uint64_t bytes = 0;

    static Snapshot take() {
        Snapshot s;
        for (int i = 0; i < kThreads; ++i) {
            s.allocs[i] = gAllocs[i].load(std::memory_order_relaxed);
        }
        s.bytes = gBytes.load(std::memory_order_relaxed);
        return s;
    }
};

// A case that must not allocate did, per message (a one-off, such as a vector growing once, is tolerated).
bool gZeroBroken = false;

std::uint64_t report(const std::string& what, std::size_t n, const char* unit, const Snapshot& a,
                     const Snapshot& b) {
    const std::uint64_t client = b.allocs[1] - a.allocs[1];
    const std::uint64_t server = b.allocs[2] - a.allocs[2];
    const std::uint64_t engine = b.allocs[0] - a.allocs[0];
    const std::uint64_t total = client + server + engine;
    const double per = static_cast<double>(total) / static_cast<double>(n);
    fmt::print(
        "{}: {:.2f} allocations/{} ({} in {}; client app {}, server app {}, reactor threads {}; {} bytes)\n",
        what, per, unit, total, n, client, server, engine, b.bytes - a.bytes);
    std::fflush(stdout);
    return total;
}

void roundTrips(bench::TofuSession& s, std::size_t payload, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        tofu::MessagePtr req = s.message(payload, tofu::MessageRole::request);
        s.cli->enqueueToPeer(req);
        (void)s.next(*s.cli);
    }
}

void pipelined(bench::TofuSession& s, std::size_t payload, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        tofu::MessagePtr m = s.message(payload, tofu::MessageRole::signal);
        s.cli->enqueueToPeer(m);
    }
    (void)s.next(*s.cli);  // the receiver's ack after it has counted all n
}

// Flow-controlled stream: bursts of `window` messages, each acknowledged by the receiver before the next,
// with pools big enough for a burst: the steady state of an application that bounds what it has in flight.
constexpr std::size_t Window = 512;

void windowed(bench::TofuSession& s, std::size_t payload, std::size_t n) {
    for (std::size_t done = 0; done < n; done += Window) {
        pipelined(s, payload, std::min(Window, n - done));
    }
}

void windowedAcks(bench::TofuSession& s, std::size_t n) {
    for (std::size_t done = 0; done < n; done += Window) {
        s.countAndAck(std::min(Window, n - done));
    }
}

void run(bool uds, std::size_t payload, std::size_t warmup, std::size_t count) {
    const std::string name = uds ? "tofu/uds" : "tofu/tcp";
    {
        bench::TofuSession s(uds);
        Snapshot a, b;
        s.run(
            [&s, n = warmup + count] {
                tRole = 2;
                s.echo(n);
            },
            [&] {
                roundTrips(s, payload, warmup);
                a = Snapshot::take();
                roundTrips(s, payload, count);
                b = Snapshot::take();
            });
        gZeroBroken |=
            report(fmt::format("{} rtt {}B", name, payload), count, "round trip", a, b) > count / 100;
    }
    {
        bench::TofuSession s(uds);
        Snapshot a, b;
        s.run(
            [&s, warmup, count] {
                tRole = 2;
                s.countAndAck(warmup);
                s.countAndAck(count);
            },
            [&] {
                pipelined(s, payload, warmup);
                a = Snapshot::take();
                pipelined(s, payload, count);
                b = Snapshot::take();
            });
        report(fmt::format("{} pipelined {}B", name, payload), count, "message", a, b);
    }
    {
        tofu::Options opts = bench::benchOptions();
        opts.initialPoolMsgs = 2 * Window;
        opts.maxPoolMsgs = 2 * Window;
        bench::TofuSession s(uds, 1, opts);
        Snapshot a, b;
        s.run(
            [&s, warmup, count] {
                tRole = 2;
                windowedAcks(s, warmup);
                windowedAcks(s, count);
            },
            [&] {
                windowed(s, payload, warmup);
                a = Snapshot::take();
                windowed(s, payload, count);
                b = Snapshot::take();
            });
        gZeroBroken |=
            report(fmt::format("{} pipelined {}B, window {}, pools {}", name, payload, Window, 2 * Window),
                   count, "message", a, b) > count / 100;
    }
}

}  // namespace

int main(int argc, char** argv) {
    tRole = 1;
    std::size_t warmup = 10000;
    std::size_t count = 100000;
    std::size_t payload = 64;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--warmup" && i + 1 < argc) {
            warmup = std::strtoull(argv[++i], nullptr, 10);
        } else if (a == "--count" && i + 1 < argc) {
            count = std::max<std::size_t>(1, std::strtoull(argv[++i], nullptr, 10));
        } else if (a == "--payload" && i + 1 < argc) {
            payload = std::strtoull(argv[++i], nullptr, 10);
        } else {
            fmt::print(stderr, "usage: tofu-alloc-count [--warmup N] [--count N] [--payload BYTES]\n");
            return a == "--help" ? 0 : 2;
        }
    }
    fmt::print("steady state after {} warm-up messages; every allocation in the process is counted\n",
               warmup);
    try {
        run(true, payload, warmup, count);
        run(false, payload, warmup, count);
    } catch (const std::exception& ex) {
        fmt::print(stderr, "tofu-alloc-count: {}\n", ex.what());
        return 1;
    }
    if (gZeroBroken) {
        fmt::print(stderr, "tofu-alloc-count: FAIL: round trips or the windowed stream allocated\n");
        return 1;
    }
    fmt::print("round trips and the windowed stream: zero allocations per message\n");
    return 0;
}
