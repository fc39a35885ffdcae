// Shared helpers for the hardening tests (issue #6): raw wire frames, process figures (RSS, open
// descriptors, CPU time), a descriptor-limit guard and a memory resource that counts what it hands out.
#pragma once

#if !defined(_WIN32)
#include <sys/resource.h>
#include <unistd.h>
#endif

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <memory>
#include <memory_resource>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "raw_wire.hpp"
#include "test_platform.hpp"
#include "tofu/tofu.hpp"

namespace tofu::hardening {

using namespace tofu::testing::wire;  // HelloRequestProto..., HeaderSize, frame()
using detail::NativeSocket;

struct RawHeader {
    std::uint16_t ch = 0;
    std::uint8_t proto = 0;
    std::uint8_t status = 0;
    std::uint64_t id = 0;
    std::size_t thl = 0;
    std::size_t bl = 0;
};

inline RawHeader parseHeader(const std::uint8_t* h) {
    RawHeader r;
    r.ch = static_cast<std::uint16_t>((h[0] << 8) | h[1]);
    r.proto = h[2];
    r.status = h[3];
    for (int i = 4; i < 12; ++i) {
        r.id = (r.id << 8) | h[i];
    }
    r.thl = static_cast<std::size_t>((h[12] << 8) | h[13]);
    r.bl = static_cast<std::size_t>((h[14] << 8) | h[15]);
    return r;
}

// ---- a raw blocking client (bounded by SO_RCVTIMEO / poll) ----

inline NativeSocket rawSocket() {
    const NativeSocket fd = test::rawSocket(AF_INET);
    if (fd != detail::InvalidSocket) {
        test::setIoTimeouts(fd, std::chrono::seconds(10));
    }
    return fd;
}

inline bool rawConnect(NativeSocket fd, std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return ::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0;
}

inline bool sendAll(NativeSocket fd, const std::vector<std::uint8_t>& b) {
    std::size_t off = 0;
    while (off < b.size()) {
        const std::ptrdiff_t n = detail::sendSome(fd, b.data() + off, b.size() - off);
        if (n <= 0) {
            return false;
        }
        off += static_cast<std::size_t>(n);
    }
    return true;
}

inline bool recvAll(NativeSocket fd, std::uint8_t* p, std::size_t len) {
    while (len > 0) {
        const std::ptrdiff_t n = detail::recvSome(fd, p, len);
        if (n <= 0) {
            return false;  // EOF, error or the 10 s SO_RCVTIMEO
        }
        p += n;
        len -= static_cast<std::size_t>(n);
    }
    return true;
}

/// One frame (header and payload); false on EOF, error or timeout.
inline bool recvFrame(NativeSocket fd, RawHeader& h, std::string& payload) {
    std::uint8_t hb[HeaderSize];
    if (!recvAll(fd, hb, sizeof hb)) {
        return false;
    }
    h = parseHeader(hb);
    payload.assign(h.thl + h.bl, '\0');
    return payload.empty() || recvAll(fd, reinterpret_cast<std::uint8_t*>(payload.data()), payload.size());
}

/// Resident set size of this process in KiB (VmRSS), 0 when unknown.
inline long vmRssKiB() {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VmRSS:", 0) == 0) {
            return std::strtol(line.c_str() + 6, nullptr, 10);
        }
    }
    return 0;
}

/// CPU time (user + system, every thread) this process has used, in milliseconds.
inline double processCpuMs() {
    timespec ts{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

inline double secondsSince(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

#if !defined(_WIN32)
/// Restores RLIMIT_NOFILE as it was at construction when it goes out of scope.
class NofileGuard {
  public:
    NofileGuard() { ::getrlimit(RLIMIT_NOFILE, &saved_); }
    ~NofileGuard() { restore(); }
    NofileGuard(const NofileGuard&) = delete;
    NofileGuard& operator=(const NofileGuard&) = delete;

    [[nodiscard]] const rlimit& saved() const noexcept { return saved_; }

    /// Soft (and, when needed, hard) limit at least n. false (errno kept) when refused.
    bool raiseTo(rlim_t n) {
        rlimit want = saved_;
        if (want.rlim_cur != RLIM_INFINITY && want.rlim_cur >= n) {
            return true;
        }
        want.rlim_cur = n;
        if (want.rlim_max != RLIM_INFINITY && want.rlim_max < n) {
            want.rlim_max = n;  // needs CAP_SYS_RESOURCE
        }
        return ::setrlimit(RLIMIT_NOFILE, &want) == 0;
    }

    /// Soft limit n (lower than now), hard limit unchanged.
    bool lowerTo(rlim_t n) {
        rlimit want = saved_;
        want.rlim_cur = n;
        return ::setrlimit(RLIMIT_NOFILE, &want) == 0;
    }

    void restore() noexcept { ::setrlimit(RLIMIT_NOFILE, &saved_); }

  private:
    rlimit saved_{};
};

/// The lowest descriptor number free right now (what the next socket()/accept() would get).
inline int lowestFreeFd() {
    const int fd = ::dup(0);
    if (fd >= 0) {
        ::close(fd);
    }
    return fd;
}
#endif

/// A thread-safe memory resource over new/delete that counts live blocks and bytes, and live Message
/// objects (blocks of sizeof(Message) with Message's alignment; buffers are allocated with alignment 1).
class CountingResource : public std::pmr::memory_resource {
  public:
    std::atomic<long> liveBlocks{0};
    std::atomic<long> liveBytes{0};
    std::atomic<long> liveMessages{0};
    std::atomic<long> totalBlocks{0};

  private:
    static bool isMessage(std::size_t bytes, std::size_t alignment) noexcept {
        return bytes == sizeof(Message) && alignment == alignof(Message);
    }
    void* do_allocate(std::size_t bytes, std::size_t alignment) override {
        void* p = std::pmr::new_delete_resource()->allocate(bytes, alignment);
        liveBlocks.fetch_add(1, std::memory_order_relaxed);
        totalBlocks.fetch_add(1, std::memory_order_relaxed);
        liveBytes.fetch_add(static_cast<long>(bytes), std::memory_order_relaxed);
        if (isMessage(bytes, alignment)) {
            liveMessages.fetch_add(1, std::memory_order_relaxed);
        }
        return p;
    }
    void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override {
        std::pmr::new_delete_resource()->deallocate(p, bytes, alignment);
        liveBlocks.fetch_sub(1, std::memory_order_relaxed);
        liveBytes.fetch_sub(static_cast<long>(bytes), std::memory_order_relaxed);
        if (isMessage(bytes, alignment)) {
            liveMessages.fetch_sub(1, std::memory_order_relaxed);
        }
    }
    bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
        return this == &other;
    }
};

/// Takes every message the engine's pool holds right now (poolOnly) and gives them back; returns how many.
inline long drainPoolCount(Ampe& ampe) {
    std::vector<MessagePtr> held;
    for (;;) {
        MessagePtr m = ampe.get(AllocationStrategy::poolOnly);
        if (!m) {
            break;
        }
        held.push_back(std::move(m));
    }
    const long n = static_cast<long>(held.size());
    held.clear();  // back to the pool
    return n;
}

/// A tofu engine with one group that answers every HelloRequest, AppRequest and ByeRequest on its own
/// thread (echo), counting what it sees. No Catch assertions off the main thread: counters only.
class EchoServer {
  public:
    explicit EchoServer(const Options& opts = DefaultOptions) : rtr_(Reactor::Create(opts)) {
        grp_ = rtr_->ampe().create();
    }
    ~EchoServer() {
        stop();
        rtr_.reset();
    }
    EchoServer(const EchoServer&) = delete;
    EchoServer& operator=(const EchoServer&) = delete;

    [[nodiscard]] Ampe& ampe() noexcept { return rtr_->ampe(); }
    [[nodiscard]] ChannelGroup& group() noexcept { return *grp_; }
    [[nodiscard]] Reactor& reactor() noexcept { return *rtr_; }

    /// Starts answering (listeners are opened before, on the calling thread).
    void start() {
        thread_ = std::thread([this] { run(); });
    }
    /// Stops answering and joins the thread (idempotent).
    void stop() {
        stop_.store(true);
        if (thread_.joinable()) {
            thread_.join();
        }
    }
    void addListener(ChannelNumber cn) { listeners_.push_back(cn); }

    std::atomic<long> hellos{0};
    std::atomic<long> requests{0};
    std::atomic<long> responses{0};
    std::atomic<long> signals{0};
    std::atomic<long> byes{0};
    std::atomic<long> closed{0};          // channel_closed of a non-listener channel
    std::atomic<long> listenerClosed{0};  // channel_closed of a listener
    std::atomic<long> poolEmpty{0};
    std::atomic<long> returned{0};         // our own messages back from the engine (peer gone)
    std::atomic<long> enqueueFailures{0};  // enqueueToPeer refused (channel already closed)
    std::atomic<long> other{0};

  private:
    bool isListener(ChannelNumber cn) const {
        for (ChannelNumber l : listeners_) {
            if (l == cn) {
                return true;
            }
        }
        return false;
    }

    void answer(MessagePtr& m, std::atomic<long>& counter) {
        m->bhdr.proto.role = MessageRole::response;
        try {
            grp_->enqueueToPeer(m);
            counter.fetch_add(1);
        } catch (const AmpeError&) {
            enqueueFailures.fetch_add(1);
        }
    }

    void run() {
        for (;;) {
            MessagePtr m;
            try {
                m = grp_->waitReceive(20'000'000);  // 20 ms: look at the stop flag now and then
            } catch (const AmpeError&) {
                return;
            }
            if (!m) {
                if (stop_.load()) {
                    return;
                }
                continue;
            }
            const ProtoFields p = m->bhdr.proto;
            if (p.origin == OriginFlag::engine) {
                const AmpeStatus st = raw_to_status(m->bhdr.status);
                if (p.mtype == MessageType::regular && p.role == MessageRole::signal &&
                    st == AmpeStatus::channel_closed) {
                    (isListener(m->bhdr.channel_number) ? listenerClosed : closed).fetch_add(1);
                } else if (p.mtype == MessageType::regular && p.role == MessageRole::signal &&
                           st == AmpeStatus::pool_empty) {
                    poolEmpty.fetch_add(1);
                } else {
                    returned.fetch_add(1);
                }
                continue;
            }
            const std::optional<ValidCombination> vc = toValidCombination(p.mtype, p.role);
            if (vc == ValidCombination::HelloRequest) {
                hellos.fetch_add(1);
                m->thdrs.reset();  // a short HelloResponse: header and body only
                std::atomic<long> ignored{0};
                answer(m, ignored);
            } else if (vc == ValidCombination::AppRequest) {
                requests.fetch_add(1);
                answer(m, responses);
            } else if (vc == ValidCombination::ByeRequest) {
                std::atomic<long> ignored{0};
                byes.fetch_add(1);
                answer(m, ignored);
            } else if (vc == ValidCombination::AppSignal) {
                signals.fetch_add(1);
            } else {
                other.fetch_add(1);
            }
        }
    }

    std::unique_ptr<Reactor> rtr_;
    ChannelGroup* grp_ = nullptr;
    std::vector<ChannelNumber> listeners_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

/// Waits until pred() holds, at most `seconds`; returns pred().
template <class Pred>
bool waitUntil(Pred pred, double seconds) {
    const auto t0 = std::chrono::steady_clock::now();
    while (!pred()) {
        if (secondsSince(t0) > seconds) {
            return pred();
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return true;
}

/// Environment variable as a positive number, or def.
inline long envNumber(const char* name, long def) {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0') {
        return def;
    }
    char* end = nullptr;
    const long n = std::strtol(v, &end, 10);
    return (end != nullptr && *end == '\0' && n > 0) ? n : def;
}

/// Prints a figure line on stdout at once (ctest keeps it in the test log).
template <class... Args>
void report(fmt::format_string<Args...> f, Args&&... args) {
    fmt::print("[hardening] {}\n", fmt::format(f, std::forward<Args>(args)...));
    std::fflush(stdout);
}

}  // namespace tofu::hardening
