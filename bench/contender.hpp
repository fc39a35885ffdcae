// One messaging stack measured by tofu-bench. Each contender runs both ends in this process: a server
// (echo) thread and the client on the calling thread, over loopback TCP or a Unix socket.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace bench {

class Contender {
  public:
    virtual ~Contender() = default;
    [[nodiscard]] virtual std::string name() const = 0;
    /// Round trips of `payload`-byte messages; one sample (ns) per round trip, warm-up excluded.
    virtual std::vector<std::uint64_t> latency(std::size_t payload, std::size_t count,
                                               std::size_t warmup) = 0;
    /// `count` one-way messages pipelined; ns from the first send until the receiver has counted all.
    virtual std::uint64_t throughput(std::size_t payload, std::size_t count) = 0;
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

/// A free loopback TCP port and a fresh UDS path, for the contenders.
std::uint16_t freePort();
std::string udsPath();

}  // namespace bench
