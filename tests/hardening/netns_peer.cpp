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
//   tofu_netns_peer sink IP PORT PAUSE
//       Listens on IP:PORT with a pool of 2 messages and keeps every message it receives for PAUSE seconds
//       after the first one (the engine stops reading: pool_empty, the window closes), then reads on. A
//       message "END n" must follow exactly n messages numbered in increasing order: prints END-OK or
//       END-MISMATCH.
//   tofu_netns_peer flood IP PORT TIMEOUT_MS SECONDS
//       Connects with Options::deadPeerTimeoutMs = TIMEOUT_MS and sends numbered 8 KiB signals until the
//       engine refuses one (every buffer full: the sink's window is closed), prints CUT-NOW, then waits up
//       to SECONDS for the engine to report the connection lost: NOTICED (exit 0), or NOT-NOTICED, after
//       which it sends "END n" (n: the messages the engine accepted) and exits 3.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

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

MessagePtr signalSeq(Ampe& ampe, ChannelNumber cn, long seq, const std::string& body) {
    MessagePtr m = ampe.get(AllocationStrategy::always);
    m->bhdr.proto.mtype = MessageType::regular;
    m->bhdr.proto.role = MessageRole::signal;
    m->bhdr.channel_number = cn;
    m->thdrs.append("seq", std::to_string(seq));
    m->body.assign(body);
    return m;
}

int sink(const std::string& ip, std::uint16_t port, double pause) {
    Options opts;
    opts.initialPoolMsgs = 2;
    opts.maxPoolMsgs = 2;
    auto rtr = Reactor::Create(opts);
    Ampe& ampe = rtr->ampe();
    DestroyChannels g(ampe);
    MessagePtr w = ampe.get(AllocationStrategy::always);
    TCPServerConfigurator(ip, port).prepareRequest(*w);
    g->enqueueToPeer(w);
    MessagePtr wr = next(*g, 10);
    if (!wr || wr->bhdr.status != 0) {
        say("sink: listen failed: " + (wr ? describe(*wr) : std::string("no answer")));
        return 1;
    }
    say("sink: listening on " + ip + ":" + std::to_string(port));
    std::vector<MessagePtr> held;  // pool_empty notices too: one back in the pool lets a frame in
    bool pausing = false;
    Clock::time_point pausedAt;
    long count = 0, last = -1;
    bool ordered = true;
    for (;;) {
        if (pausing && since(pausedAt) >= pause) {
            say("sink: reading again after " + std::to_string(since(pausedAt)) + " s");
            pausing = false;
            pause = 1e9;  // once
            held.clear();
        }
        MessagePtr m = g->waitReceive(pausing ? 50'000'000 : waitReceive_INFINITE_TIMEOUT);
        if (!m) {
            continue;
        }
        const ProtoFields p = m->bhdr.proto;
        if (p.origin == OriginFlag::engine) {
            if (raw_to_status(m->bhdr.status) == AmpeStatus::channel_closed &&
                p.role == MessageRole::signal) {
                say("sink: channel " + std::to_string(m->bhdr.channel_number) + " closed after " +
                    std::to_string(count) + " messages");
            } else if (pausing) {
                held.push_back(std::move(m));
            }
            continue;
        }
        if (p.mtype == MessageType::hello && p.role == MessageRole::request) {
            m->bhdr.proto.role = MessageRole::response;
            g->enqueueToPeer(m);
            continue;
        }
        const std::string body(m->body.view());
        if (body.rfind("END ", 0) == 0) {
            const long n = std::strtol(body.c_str() + 4, nullptr, 10);
            say(std::string(n == count && ordered ? "sink: END-OK " : "sink: END-MISMATCH ") + "expected " +
                std::to_string(n) + ", got " + std::to_string(count) +
                (ordered ? " in order" : " OUT OF ORDER"));
            continue;
        }
        const auto seq = m->thdrs.find("seq");
        const long s = seq ? std::strtol(std::string(*seq).c_str(), nullptr, 10) : -1;
        ordered = ordered && s > last;
        last = s;
        ++count;
        if (!pausing && pause < 1e9) {
            pausing = true;
            pausedAt = Clock::now();
            say("sink: pausing " + std::to_string(pause) + " s");
        }
        if (pausing) {
            held.push_back(std::move(m));
        }
    }
}

int flood(const std::string& ip, std::uint16_t port, std::uint32_t timeoutMs, double seconds) {
    Options opts;
    opts.deadPeerTimeoutMs = timeoutMs;
    opts.maxSendQueueBytes = 64 * 1024;
    auto rtr = Reactor::Create(opts);
    Ampe& ampe = rtr->ampe();
    DestroyChannels g(ampe);
    const ChannelNumber cn = connect(ampe, *g, ip, port);
    if (cn == 0) {
        return 1;
    }
    // One message at a time, each handled by the engine before the next (a Welcome that must fail comes
    // back after it): a refusal then means the queue is full although the engine wrote what the socket took.
    const std::string body(8 * 1024, 'f');
    long seq = 0, refused = 0;
    auto sync = [&] {
        MessagePtr marker = ampe.get(AllocationStrategy::always);
        UDSServerConfigurator("/nonexistent-tofu-dir/x").prepareRequest(*marker);
        const ChannelNumber mcn = g->enqueueToPeer(marker).channel_number;
        for (;;) {
            MessagePtr m = next(*g, 30);
            if (!m) {
                return false;
            }
            if (m->bhdr.channel_number == mcn) {
                if (m->bhdr.proto.role == MessageRole::signal) {
                    return true;
                }
                continue;
            }
            if (raw_to_status(m->bhdr.status) != AmpeStatus::send_failed) {
                say("client: FAIL connection lost while filling: " + describe(*m));
                return false;
            }
            ++refused;
        }
    };
    // Full once a message is refused even after the socket had 200 ms to take more: the window is closed.
    for (long lastRefused = 0;;) {
        MessagePtr m = signalSeq(ampe, cn, seq++, body);
        g->enqueueToPeer(m);
        const long before = refused;
        if (!sync()) {
            return 1;
        }
        if (refused > before) {
            if (refused > 1 && lastRefused == seq - 2) {
                break;
            }
            lastRefused = seq - 1;
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
    }
    const long accepted = seq - refused;
    const auto t0 = Clock::now();
    say("CUT-NOW (window closed: " + std::to_string(accepted) + " messages accepted, " +
        std::to_string(refused) + " refused)");
    if (MessagePtr m = next(*g, seconds)) {
        const double took = since(t0);
        // The messages still queued come back first (with the reason), then the channel's close signal.
        long back = 0;
        const std::string reason(statusName(raw_to_status(m->bhdr.status)));
        while (m && m->thdrs.find("seq")) {
            ++back;
            m = next(*g, 5);
        }
        say("NOTICED: after " + std::to_string(took) + " s since CUT-NOW: " + std::to_string(back) +
            " queued messages back (" + (back > 0 ? reason : std::string("-")) + "), then " +
            (m ? describe(*m) : std::string("no close signal")));
        return 0;
    }
    say("NOT-NOTICED: the channel is open after " + std::to_string(since(t0)) + " s; sending END " +
        std::to_string(accepted));
    // The sink may still be paused: try again while the queue is full.
    for (int i = 0; i < 300; ++i) {
        const long before = refused;
        MessagePtr end = signalSeq(ampe, cn, seq, "END " + std::to_string(accepted));
        g->enqueueToPeer(end);
        if (!sync()) {
            return 1;
        }
        if (refused == before) {
            return 3;  // END is on its way
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    say("client: FAIL END refused for 30 s");
    return 1;
}

int usage() {
    std::fprintf(
        stderr,
        "usage: tofu_netns_peer server IP PORT | transfer IP PORT COUNT | cut IP PORT busy|idle SECONDS |\n"
        "       sink IP PORT PAUSE | flood IP PORT TIMEOUT_MS SECONDS\n");
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
        if (mode == "sink" && argc == 5) {
            return sink(ip, port, std::strtod(argv[4], nullptr));
        }
        if (mode == "flood" && argc == 6) {
            return flood(ip, port, static_cast<std::uint32_t>(std::strtoul(argv[4], nullptr, 10)),
                         std::strtod(argv[5], nullptr));
        }
        return usage();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "tofu_netns_peer: %s\n", e.what());
        return 1;
    }
}
