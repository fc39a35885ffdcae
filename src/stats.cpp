// The engine's counters read out, and their JSON rendering (stable: docs/guide/observing.md).
#include "tofu/stats.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <iterator>

#include "engine_stats.hpp"

namespace tofu {

namespace detail {

void EngineCounters::read(EngineStats& s) const noexcept {
    constexpr auto r = std::memory_order_relaxed;
    s.traffic = TrafficStats;
    s.messagesIn = messagesIn.load(r);
    s.bytesIn = bytesIn.load(r);
    s.messagesOut = messagesOut.load(r);
    s.bytesOut = bytesOut.load(r);
    s.sendCalls = sendCalls.load(r);
    s.sendFrames = sendFrames.load(r);
    s.connectionsOpened = connectionsOpened.load(r);
    s.closedBye = closedBye.load(r);
    s.closedPeer = closedPeer.load(r);
    s.closedError = closedError.load(r);
    s.closedDestroy = closedDestroy.load(r);
    s.deadPeers = deadPeers.load(r);
    s.listenersOpened = listenersOpened.load(r);
    s.listenersClosed = listenersClosed.load(r);
    s.listenFailures = listenFailures.load(r);
    s.connectFailures = connectFailures.load(r);
    s.acceptBackoffs = acceptBackoffs.load(r);
    s.sendRefused = sendRefused.load(r);
    s.framesRefused = framesRefused.load(r);
    s.poolEmptyPauses = poolEmptyPauses.load(r);
}

}  // namespace detail

std::string_view kindName(ChannelStats::Kind kind) noexcept {
    switch (kind) {
        case ChannelStats::Kind::listener:
            return "listener";
        case ChannelStats::Kind::connector:
            return "connector";
        case ChannelStats::Kind::connection:
            return "connection";
    }
    return "unknown";
}

namespace {

using Out = std::back_insert_iterator<std::string>;

// A JSON string: quotes, backslashes and control bytes escaped; other bytes (UTF-8) as they are.
void quoted(Out out, std::string_view s) {
    *out++ = '"';
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            *out++ = '\\';
            *out++ = c;
        } else if (u < 0x20 || u == 0x7F) {
            fmt::format_to(out, "\\u{:04x}", u);
        } else {
            *out++ = c;
        }
    }
    *out++ = '"';
}

// One "name":value pair, with the comma before every pair but the first of its object.
class Fields {
  public:
    explicit Fields(Out out) : out_(out) {}
    void num(std::string_view name, std::uint64_t v) { fmt::format_to(key(name), "{}", v); }
    void str(std::string_view name, std::string_view v) { quoted(key(name), v); }
    void flag(std::string_view name, bool v) { fmt::format_to(key(name), "{}", v ? "true" : "false"); }

  private:
    Out key(std::string_view name) {
        if (!first_) {
            *out_++ = ',';
        }
        first_ = false;
        quoted(out_, name);
        *out_++ = ':';
        return out_;
    }
    Out out_;
    bool first_ = true;
};

}  // namespace

std::string toJson(const EngineStats& e, std::span<const ChannelStats> channels) {
    std::string s;
    Out out(s);
    s += R"({"version":1,"engine":{)";
    Fields f(out);
    f.flag("traffic", e.traffic);
    f.num("messagesIn", e.messagesIn);
    f.num("bytesIn", e.bytesIn);
    f.num("messagesOut", e.messagesOut);
    f.num("bytesOut", e.bytesOut);
    f.num("sendCalls", e.sendCalls);
    f.num("sendFrames", e.sendFrames);
    f.num("connectionsOpened", e.connectionsOpened);
    f.num("closedBye", e.closedBye);
    f.num("closedPeer", e.closedPeer);
    f.num("closedError", e.closedError);
    f.num("closedDestroy", e.closedDestroy);
    f.num("deadPeers", e.deadPeers);
    f.num("listenersOpened", e.listenersOpened);
    f.num("listenersClosed", e.listenersClosed);
    f.num("listenFailures", e.listenFailures);
    f.num("connectFailures", e.connectFailures);
    f.num("acceptBackoffs", e.acceptBackoffs);
    f.num("sendRefused", e.sendRefused);
    f.num("framesRefused", e.framesRefused);
    f.num("poolEmptyPauses", e.poolEmptyPauses);
    f.num("poolInitial", e.poolInitial);
    f.num("poolMax", e.poolMax);
    f.num("poolFree", e.poolFree);
    f.num("poolFreeHigh", e.poolFreeHigh);
    f.num("poolAllocated", e.poolAllocated);
    s += R"(},"channels":[)";
    bool first = true;
    for (const ChannelStats& c : channels) {
        if (!first) {
            s += ',';
        }
        first = false;
        s += '{';
        Fields cf(out);
        cf.num("channel", c.channel);
        cf.str("kind", kindName(c.kind));
        cf.str("state", c.state);
        cf.str("address", c.address);
        cf.num("queuedMessages", c.queuedMessages);
        cf.num("queuedBytes", c.queuedBytes);
        cf.num("messagesIn", c.messagesIn);
        cf.num("messagesOut", c.messagesOut);
        cf.num("bytesIn", c.bytesIn);
        cf.num("bytesOut", c.bytesOut);
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(c.since.time_since_epoch());
        cf.num("since", static_cast<std::uint64_t>(std::max<std::int64_t>(ms.count(), 0)));
        s += '}';
    }
    s += "]}";
    return s;
}

}  // namespace tofu
