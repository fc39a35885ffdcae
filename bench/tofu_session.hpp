// A tofu server engine and a client engine connected over loopback TCP or UDS, with `clients` channels
// (each its own connection) from one client group to one server group; with oneEngine, a single engine (one
// reactor thread) serves both ends. Shared by tofu-bench and
// tofu-alloc-count.
#pragma once

#include <fmt/format.h>
#include <tofu/tofu.hpp>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <exception>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "contender.hpp"

namespace bench {

/// Engine options for the benchmarks: defaults, except that
///  - a channel's send queue is not limited (the pipelined jobs queue up to 200,000 frames at once;
///    ZeroMQ runs with its high-water marks off too);
///  - the pool is sized for a stream as docs/guide/advanced-topics.md recommends ("Sizing the pool for a
///    stream"): a flood without a send limit runs tens of thousands of messages ahead of the socket, so the
///    pool keeps the most it can (65,535) and messages are reused instead of allocated and freed (ZeroMQ
///    allocates every message above 33 bytes).
///  tofu-bench --tofu-pool MAX changes the maximum (tofuPoolMax), e.g. to the library's default of 64.
inline tofu::Options benchOptions() {
    tofu::Options o = tofu::DefaultOptions;
    o.maxSendQueueBytes = std::numeric_limits<std::uint32_t>::max();
    o.maxPoolMsgs = tofuPoolMax;
    o.initialPoolMsgs = std::min<std::uint16_t>(256, tofuPoolMax);
    return o;
}

struct TofuSession {
    std::unique_ptr<tofu::Reactor> srvEngine;
    std::unique_ptr<tofu::Reactor> cliEngine;  // null with oneEngine: srvEngine serves the client group too
    tofu::DestroyChannels srv{srvEngine->ampe()};
    tofu::DestroyChannels cli{clientEngine().ampe()};
    std::vector<tofu::ChannelNumber> clientCns;  // client side, one per connection
    tofu::ChannelNumber clientCn = 0;            // clientCns[0]
    tofu::ChannelNumber serverCn = 0;            // server side of the first connection
    std::atomic<bool> aborted{false};            // set by run() when one side failed

    explicit TofuSession(bool uds, std::size_t clients = 1, const tofu::Options& opts = benchOptions(),
                         bool oneEngine = false)
        : srvEngine(tofu::Reactor::Create(opts)),
          cliEngine(oneEngine ? nullptr : tofu::Reactor::Create(opts)) {
        tofu::Configurator server, client;
        if (uds) {
            const std::string path = udsPath();
            server = tofu::UDSServerConfigurator(path);
            client = tofu::UDSClientConfigurator(path);
        } else {
            const std::uint16_t port = freePort();
            server = tofu::TCPServerConfigurator("127.0.0.1", port);
            client = tofu::TCPClientConfigurator("127.0.0.1", port);
        }
        tofu::MessagePtr welcome = srvEngine->ampe().get(tofu::AllocationStrategy::always);
        server.prepareRequest(*welcome);
        srv->enqueueToPeer(welcome);
        (void)next(*srv);
        for (std::size_t i = 0; i < clients; ++i) {
            tofu::MessagePtr hello = clientEngine().ampe().get(tofu::AllocationStrategy::always);
            client.prepareRequest(*hello);
            clientCns.push_back(cli->enqueueToPeer(hello).channel_number);
            tofu::MessagePtr req = next(*srv);
            if (i == 0) {
                serverCn = req->bhdr.channel_number;
            }
            req->bhdr.proto.role = tofu::MessageRole::response;
            srv->enqueueToPeer(req);
            (void)next(*cli);
        }
        clientCn = clientCns.front();
    }

    /// The client side's engine.
    tofu::Reactor& clientEngine() { return cliEngine ? *cliEngine : *srvEngine; }

    /// Next application message (engine notices such as pool_empty are skipped).
    tofu::MessagePtr next(tofu::ChannelGroup& g) {
        for (;;) {
            tofu::MessagePtr m = g.waitReceive(30 * tofu::waitReceive_SEC_TIMEOUT);
            if (aborted.load()) {
                throw std::runtime_error("tofu: the other side failed");
            }
            if (!m) {
                throw std::runtime_error("tofu: timeout");
            }
            if (m->bhdr.proto.origin == tofu::OriginFlag::application) {
                return m;
            }
            const tofu::AmpeStatus st = tofu::raw_to_status(m->bhdr.status);
            if (st != tofu::AmpeStatus::pool_empty) {
                throw std::runtime_error(fmt::format("tofu: engine notice {} on channel {}",
                                                     static_cast<int>(st), m->bhdr.channel_number));
            }
        }
    }

    /// Runs `serverFn` on a new thread and `clientFn` on this one. When either throws, the other is woken
    /// (updateReceiver) and fails too; the first exception is rethrown after the join, so a failure
    /// becomes an error line instead of std::terminate.
    template <class ServerFn, class ClientFn>
    void run(ServerFn&& serverFn, ClientFn&& clientFn) {
        std::exception_ptr serverError;
        std::exception_ptr clientError;
        std::thread server([&] {
            try {
                serverFn();
            } catch (...) {
                if (!aborted.exchange(true)) {
                    serverError = std::current_exception();
                }
                cli->updateReceiver();
            }
        });
        try {
            clientFn();
        } catch (...) {
            if (!aborted.exchange(true)) {
                clientError = std::current_exception();
            }
            srv->updateReceiver();
        }
        server.join();
        if (clientError) {
            std::rethrow_exception(clientError);
        }
        if (serverError) {
            std::rethrow_exception(serverError);
        }
    }

    /// A client message from the client engine's pool, for channel `cn` (default: the first connection),
    /// its body filled with `payload` bytes.
    tofu::MessagePtr message(std::size_t payload, tofu::MessageRole role, tofu::ChannelNumber cn = 0) {
        tofu::MessagePtr m = clientEngine().ampe().get(tofu::AllocationStrategy::always);
        m->bhdr.proto.role = role;
        m->bhdr.channel_number = cn == 0 ? clientCn : cn;
        m->body.assign(payloadBytes(payload));
        return m;
    }

    /// Server side: echoes `n` requests back as responses.
    void echo(std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) {
            tofu::MessagePtr m = next(*srv);
            m->bhdr.proto.role = tofu::MessageRole::response;
            srv->enqueueToPeer(m);
        }
    }

    /// Server side: counts (and reads) `n` messages, then sends one signal back on the first connection.
    void countAndAck(std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) {
            const tofu::MessagePtr m = next(*srv);
            consume(m->body.data(), m->body.size());
        }
        tofu::MessagePtr ack = srvEngine->ampe().get(tofu::AllocationStrategy::always);
        ack->bhdr.proto.role = tofu::MessageRole::signal;
        ack->bhdr.channel_number = serverCn;
        srv->enqueueToPeer(ack);
    }
};

}  // namespace bench
