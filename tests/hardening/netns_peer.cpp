// A tofu peer for tests/hardening/netns.sh: two hosts (network namespaces) joined by a veth pair.
//
//   tofu_netns_peer server IP PORT
//       Listens on IP:PORT and answers every request with itself. Checks that each channel's requests carry
//       0, 1, 2, ... in order (prints ORDER-ERROR otherwise) and prints one line per closed channel.
//   tofu_netns_peer transfer IP PORT COUNT
//       Connects and sends COUNT numbered requests (64 in flight); every response must come back once and in
//       order. Exit 0 when they all did, 1 otherwise.
//   tofu_netns_peer cut IP PORT busy|idle SECONDS
//       Connects, prints CUT-NOW once the connection works (busy: and keeps requests in flight; idle: and
//       then sends nothing), then waits up to SECONDS for the engine to report the connection lost. Prints
//       NOTICED (exit 0) or NOT-NOTICED (exit 3) with the time it took.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <string>
#include <unordered_map>

#include "tofu/tofu.hpp"

using namespace tofu;
using Clock = std::chrono::steady_clock;

namespace {

double since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

void say(const std::string& s) {
    std::printf("%s\n", s.c_str());
    std::fflush(stdout);
}

bool isPoolEmpty(const Message& m) {
    return m.bhdr.proto.origin == OriginFlag::engine && m.bhdr.proto.role == MessageRole::signal &&
           raw_to_status(m.bhdr.status) == AmpeStatus::pool_empty;
}

std::string describe(const Message& m) {
    return "type=" + std::to_string(static_cast<int>(m.bhdr.proto.mtype)) +
           " role=" + std::to_string(static_cast<int>(m.bhdr.proto.role)) +
           " origin=" + std::to_string(static_cast<int>(m.bhdr.proto.origin)) +
           " status=" + std::string(statusName(raw_to_status(m.bhdr.status))) +
           " ch=" + std::to_string(m.bhdr.channel_number);
}

/// The next message that is not a pool_empty notice; empty after `seconds`.
MessagePtr next(ChannelGroup& g, double seconds) {
    const auto t0 = Clock::now();
    for (;;) {
        const double left = seconds - since(t0);
        if (left <= 0) {
            return {};
        }
        MessagePtr m = g.waitReceive(static_cast<std::uint64_t>(left * 1e9));
        if (m && isPoolEmpty(*m)) {
            continue;
        }
        return m;
    }
}

int server(const std::string& ip, std::uint16_t port) {
    auto rtr = Reactor::Create();
    Ampe& ampe = rtr->ampe();
    DestroyChannels g(ampe);
    MessagePtr w = ampe.get(AllocationStrategy::always);
    TCPServerConfigurator(ip, port).prepareRequest(*w);
    g->enqueueToPeer(w);
    MessagePtr wr = next(*g, 10);
    if (!wr || wr->bhdr.status != 0) {
        say("server: listen failed: " + (wr ? describe(*wr) : std::string("no answer")));
        return 1;
    }
    say("server: listening on " + ip + ":" + std::to_string(port));
    std::unordered_map<ChannelNumber, long> expected;
    for (;;) {
        MessagePtr m = g->waitReceive(waitReceive_INFINITE_TIMEOUT);
        const ProtoFields p = m->bhdr.proto;
        const ChannelNumber cn = m->bhdr.channel_number;
        if (p.origin == OriginFlag::engine) {
            if (p.role == MessageRole::signal &&
                raw_to_status(m->bhdr.status) == AmpeStatus::channel_closed) {
                say("server: channel " + std::to_string(cn) + " closed after " +
                    std::to_string(expected[cn]) + " requests in order");
                expected.erase(cn);
            }
            continue;
        }
        if (p.mtype == MessageType::hello && p.role == MessageRole::request) {
            expected[cn] = 0;
            say("server: channel " + std::to_string(cn) + " connected");
        } else if (p.mtype == MessageType::regular && p.role == MessageRole::request) {
            const long seq = std::strtol(std::string(m->body.view()).c_str(), nullptr, 10);
            if (seq != expected[cn]) {
                say("server: ORDER-ERROR channel " + std::to_string(cn) + " got " + std::to_string(seq) +
                    " expected " + std::to_string(expected[cn]));
            }
            expected[cn] = seq + 1;
        } else if (p.mtype != MessageType::bye) {
            continue;
        }
        m->bhdr.proto.role = MessageRole::response;
        try {
            g->enqueueToPeer(m);
        } catch (const AmpeError&) {
        }
    }
}

/// Hello -> HelloResponse; 0 on failure (printed).
ChannelNumber connect(Ampe& ampe, ChannelGroup& g, const std::string& ip, std::uint16_t port) {
    MessagePtr hello = ampe.get(AllocationStrategy::always);
    TCPClientConfigurator(ip, port).prepareRequest(*hello);
    const ChannelNumber cn = g.enqueueToPeer(hello).channel_number;
    MessagePtr hr = next(g, 30);
    if (!hr || hr->bhdr.proto.mtype != MessageType::hello || hr->bhdr.status != 0) {
        say("client: connect failed: " + (hr ? describe(*hr) : std::string("no answer within 30 s")));
        return 0;
    }
    return cn;
}

MessageID sendSeq(Ampe& ampe, ChannelGroup& g, ChannelNumber cn, long seq) {
    MessagePtr m = ampe.get(AllocationStrategy::always);
    m->bhdr.proto.mtype = MessageType::regular;
    m->bhdr.proto.role = MessageRole::request;
    m->bhdr.channel_number = cn;
    m->body.assign(std::to_string(seq));
    return g.enqueueToPeer(m).message_id;
}

int transfer(const std::string& ip, std::uint16_t port, long count) {
    constexpr std::size_t Window = 64;
    auto rtr = Reactor::Create();
    Ampe& ampe = rtr->ampe();
    DestroyChannels g(ampe);
    const auto t0 = Clock::now();
    const ChannelNumber cn = connect(ampe, *g, ip, port);
    if (cn == 0) {
        return 1;
    }
    std::deque<std::pair<MessageID, long>> inflight;
    long sent = 0, received = 0;
    while (received < count) {
        while (inflight.size() < Window && sent < count) {
            inflight.emplace_back(sendSeq(ampe, *g, cn, sent), sent);
            ++sent;
        }
        MessagePtr r = next(*g, 30);
        if (!r) {
            say("client: FAIL no response within 30 s after " + std::to_string(received) + " of " +
                std::to_string(count));
            return 1;
        }
        if (r->bhdr.proto.origin == OriginFlag::engine || r->bhdr.proto.role != MessageRole::response) {
            say("client: FAIL unexpected " + describe(*r) + " after " + std::to_string(received));
            return 1;
        }
        const auto [id, seq] = inflight.front();
        if (r->bhdr.message_id != id || std::string(r->body.view()) != std::to_string(seq)) {
            say("client: FAIL response " + std::to_string(received) +
                " out of order, duplicated or wrong: id " + std::to_string(r->bhdr.message_id) + " body " +
                std::string(r->body.view()) + ", expected id " + std::to_string(id) + " body " +
                std::to_string(seq));
            return 1;
        }
        inflight.pop_front();
        ++received;
    }
    say("client: transfer OK: " + std::to_string(count) + " requests sent, " + std::to_string(received) +
        " responses received once each and in order, in " + std::to_string(since(t0)) + " s");
    // A clean bye.
    MessagePtr bye = ampe.get(AllocationStrategy::always);
    bye->bhdr.proto.mtype = MessageType::bye;
    bye->bhdr.proto.role = MessageRole::request;
    bye->bhdr.channel_number = cn;
    g->enqueueToPeer(bye);
    (void)next(*g, 10);
    return 0;
}

int cut(const std::string& ip, std::uint16_t port, bool busy, double seconds) {
    constexpr std::size_t Window = 16;
    auto rtr = Reactor::Create();
    Ampe& ampe = rtr->ampe();
    DestroyChannels g(ampe);
    const ChannelNumber cn = connect(ampe, *g, ip, port);
    if (cn == 0) {
        return 1;
    }
    long seq = 0, received = 0;
    std::size_t inflight = 0;
    auto lastResponse = Clock::now();
    const long warmup = busy ? 100 : 1;
    bool announced = false;
    Clock::time_point announcedAt;
    for (;;) {
        while (busy ? inflight < Window : seq == 0) {  // idle: one round trip, then nothing
            (void)sendSeq(ampe, *g, cn, seq++);
            ++inflight;
        }
        if (!announced && received >= warmup) {
            announced = true;
            announcedAt = Clock::now();
            say(std::string("CUT-NOW (") + (busy ? "busy" : "idle") + ", " + std::to_string(received) +
                " round trips done)");
        }
        const double left = announced ? seconds - since(announcedAt) : 30.0;
        if (left <= 0) {
            say("NOT-NOTICED: after " + std::to_string(seconds) +
                " s the engine still reports the connection as "
                "open (" +
                std::to_string(since(lastResponse)) + " s since the last response, " +
                std::to_string(inflight) + " requests unanswered)");
            return 3;
        }
        MessagePtr m = next(*g, left);
        if (!m) {
            if (!announced) {
                say("client: FAIL no response within 30 s before the cut");
                return 1;
            }
            continue;
        }
        if (m->bhdr.proto.origin == OriginFlag::engine) {
            if (!announced) {
                say("client: FAIL connection lost before the cut: " + describe(*m));
                return 1;
            }
            say("NOTICED: " + std::string(statusName(raw_to_status(m->bhdr.status))) + " after " +
                std::to_string(since(announcedAt)) + " s since CUT-NOW (" +
                std::to_string(since(lastResponse)) + " s since the last response)");
            return 0;
        }
        if (m->bhdr.proto.role == MessageRole::response) {
            ++received;
            --inflight;
            lastResponse = Clock::now();
        }
    }
}

int usage() {
    std::fprintf(
        stderr,
        "usage: tofu_netns_peer server IP PORT | transfer IP PORT COUNT | cut IP PORT busy|idle SECONDS\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        if (argc < 4) {
            return usage();
        }
        const std::string mode = argv[1];
        const std::string ip = argv[2];
        const auto port = static_cast<std::uint16_t>(std::strtoul(argv[3], nullptr, 10));
        if (mode == "server" && argc == 4) {
            return server(ip, port);
        }
        if (mode == "transfer" && argc == 5) {
            return transfer(ip, port, std::strtol(argv[4], nullptr, 10));
        }
        if (mode == "cut" && argc == 6) {
            const std::string how = argv[4];
            if (how != "busy" && how != "idle") {
                return usage();
            }
            return cut(ip, port, how == "busy", std::strtod(argv[5], nullptr));
        }
        return usage();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "tofu_netns_peer: %s\n", e.what());
        return 1;
    }
}
