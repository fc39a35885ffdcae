// One messaging stack measured by tofu-bench. Each contender runs both ends in this process: a server
// (echo) thread and the client on the calling thread, over loopback TCP or a Unix socket.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace bench {

/// Result of a windowed request/response run: elapsed ns for the measured requests and one latency
/// sample (ns, send to response) per measured request.
struct WindowResult {
    std::uint64_t ns = 0;
    std::vector<std::uint64_t> samples;
};

class Contender {
  public:
    virtual ~Contender() = default;
    [[nodiscard]] virtual std::string name() const = 0;
    /// Round trips of `payload`-byte messages; one sample (ns) per round trip, warm-up excluded.
    virtual std::vector<std::uint64_t> latency(std::size_t payload, std::size_t count,
                                               std::size_t warmup) = 0;
    /// `warmup` one-way messages pipelined until the receiver acknowledges them (not measured), then `count`
    /// more; ns from the first of those until the receiver has counted them all.
    virtual std::uint64_t throughput(std::size_t payload, std::size_t count, std::size_t warmup) = 0;
    /// Request/response over one connection with `outstanding` requests in flight (the server echoes):
    /// `warmup` requests first (not measured), then `count` measured ones.
    virtual WindowResult window(std::size_t payload, std::size_t count, std::size_t warmup,
                                std::size_t outstanding) = 0;
    /// Fan-in: `clients` connections to one server, each doing `perClient` round trips one at a time
    /// (after one unmeasured warm-up round trip each); ns until all clients are done.
    virtual std::uint64_t fanIn(std::size_t payload, std::size_t clients, std::size_t perClient) = 0;
};

using Factory = std::function<std::unique_ptr<Contender>()>;

struct Entry {
    std::string name;
    Factory make;
};

// Registries filled by each contender's file (empty when its library is not installed).
void addRaw(std::vector<Entry>& out);
void addTofu(std::vector<Entry>& out);
void addZmq(std::vector<Entry>& out);
void addNng(std::vector<Entry>& out);
void addAsio(std::vector<Entry>& out);

/// The same work with the payload on every side: a sender copies payloadBytes(n) into each message it
/// builds (an application fills its messages), and every receiver that is not just echoing reads the
/// payload of each message it takes (consume()). Echo servers forward what they received untouched.
std::span<const std::uint8_t> payloadBytes(std::size_t n);

inline volatile std::uint64_t consumed = 0;  // keeps consume()'s reads from being optimised away

/// Reads all `n` bytes at `p` (xor of 8-byte words), as an application reading what it received.
inline void consume(const void* p, std::size_t n) noexcept {
    const auto* b = static_cast<const unsigned char*>(p);
    std::uint64_t x = n;
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        std::uint64_t w = 0;
        std::memcpy(&w, b + i, 8);
        x ^= w;
    }
    for (; i < n; ++i) {
        x ^= b[i];
    }
    consumed = x;
}

/// The benchmark tofu engines' maxPoolMsgs (tofu-bench --tofu-pool).
inline std::uint16_t tofuPoolMax = 65535;

/// A free loopback TCP port and a fresh UDS path, for the contenders.
std::uint16_t freePort();
std::string udsPath();

/// Drives `count` requests over one FIFO connection keeping up to `outstanding` in flight: `send()` issues
/// one request, `recv()` blocks until the next response. Responses arrive in request order, so a ring of
/// send times gives each request's latency; samples (ns) are appended when `samples` is not null.
/// Returns the elapsed ns from the first send to the last response.
template <class Send, class Recv>
std::uint64_t windowed(std::size_t count, std::size_t outstanding, Send&& send, Recv&& recv,
                       std::vector<std::uint64_t>* samples) {
    using Clock = std::chrono::steady_clock;
    std::vector<Clock::time_point> sentAt(outstanding);
    std::size_t sent = 0;
    std::size_t done = 0;
    const auto t0 = Clock::now();
    for (; sent < count && sent < outstanding; ++sent) {
        sentAt[sent % outstanding] = Clock::now();
        send();
    }
    while (done < count) {
        recv();
        const auto now = Clock::now();
        if (samples != nullptr) {
            samples->push_back(static_cast<std::uint64_t>((now - sentAt[done % outstanding]).count()));
        }
        ++done;
        if (sent < count) {
            sentAt[sent % outstanding] = Clock::now();
            send();
            ++sent;
        }
    }
    return static_cast<std::uint64_t>((Clock::now() - t0).count());
}

}  // namespace bench
