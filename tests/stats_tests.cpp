// Observing a running engine (issue #17): Reactor::stats(), Reactor::channelStats(), the engine log and the
// JSON rendering, checked against traffic the tests drive and count themselves.
#include <catch2/catch.hpp>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <variant>
#include <vector>

#include "engine_test_support.hpp"
#include "hardening/hardening_support.hpp"
#include "raw_wire.hpp"
#include "socket.hpp"
#include "test_platform.hpp"

using namespace tofu;
using namespace tofu::testing;

namespace {

/// What the engine logged; the callback runs on the reactor thread, the test reads on its own.
struct LogCapture {
    struct Line {
        LogLevel level;
        std::string text;
    };
    std::mutex mutex;
    std::vector<Line> lines;

    static void callback(void* self, LogLevel level, std::string_view text) {
        auto* c = static_cast<LogCapture*>(self);
        std::lock_guard lock(c->mutex);
        c->lines.push_back(Line{level, std::string(text)});
    }
    [[nodiscard]] std::vector<Line> snapshot() {
        std::lock_guard lock(mutex);
        return lines;
    }
};

/// Waits for the reactor to finish what it was doing (channelStats() is answered between passes); the
/// counters read afterwards include it.
std::vector<ChannelStats> settle(const Reactor& r) {
    std::optional<std::vector<ChannelStats>> chs = r.channelStats(std::chrono::seconds(10));
    REQUIRE(chs.has_value());
    return std::move(*chs);
}

const ChannelStats* findChannel(const std::vector<ChannelStats>& chs, ChannelNumber cn) {
    for (const ChannelStats& c : chs) {
        if (c.channel == cn) {
            return &c;
        }
    }
    return nullptr;
}

/// A raw client of the UDS listener at path; bound to its own name `self` first when given.
detail::UniqueFd rawUdsPeer(const std::string& path, const std::string& self = {}) {
    detail::UniqueFd fd(test::rawSocket(AF_UNIX));
    if (!self.empty()) {
        sockaddr_un me{};
        me.sun_family = AF_UNIX;
        REQUIRE(self.size() < sizeof me.sun_path);
        std::memcpy(me.sun_path, self.data(), self.size());
        REQUIRE(::bind(fd.get(), reinterpret_cast<const sockaddr*>(&me), sizeof me) == 0);
    }
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
    REQUIRE(::connect(fd.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0);
    test::setIoTimeouts(fd.get(), std::chrono::seconds(10));
    return fd;
}

/// True when the peer closed fd (end of stream) within the socket's receive timeout.
bool seesEof(detail::NativeSocket fd) {
    char b[64];
    for (;;) {
        const auto n = ::recv(fd, b, sizeof b, 0);
        if (n == 0) {
            return true;
        }
        if (n < 0) {
            return false;
        }
    }
}

/// The next message of g that is not a pool_empty signal.
MessagePtr expectNonPoolSignal(ChannelGroup& g) {
    for (;;) {
        MessagePtr m = expectMessage(g);
        if (!(m->fromEngine() && m->status() == AmpeStatus::pool_empty)) {
            return m;
        }
    }
}

constexpr std::uint64_t Frame(std::size_t body) {
    return wire::HeaderSize + body;
}

}  // namespace

TEST_CASE("stats: known traffic is counted exactly", "[stats]") {
    TOFU_SKIP_WITHOUT_UDS();  // its raw peers and addresses are Unix sockets
    LogCapture log;
    Options so = DefaultOptions;
    so.log = &LogCapture::callback;
    so.logContext = &log;
    std::unique_ptr<Reactor> sr = Reactor::Create(so);
    Options co = DefaultOptions;
    co.maxSendQueueBytes = 1024;
    std::unique_ptr<Reactor> cr = Reactor::Create(co);
    Ampe& sa = sr->ampe();
    Ampe& ca = cr->ampe();
    auto srv = std::make_unique<DestroyChannels>(sa);
    DestroyChannels cli(ca);

    const EngineStats fresh = sr->stats();
    // A TOFU_STATS=OFF build keeps no traffic counters: they are expected to stay 0 there.
    const bool counted = fresh.traffic;
    auto tr = [counted](std::uint64_t v) { return counted ? v : 0; };
    CHECK(fresh.messagesIn == 0);
    CHECK(fresh.connectionsOpened == 0);
    CHECK(fresh.listenersOpened == 0);

    // A listener, and one on a TCP port somebody else listens on, which fails.
    const std::string path = tempUdsPath();
    const ChannelNumber lcn = startListener(sa, **srv, UDSServerConfigurator(path));
    std::uint16_t busyPort = 0;
    {
        detail::UniqueFd busy(hardening::rawSocket());
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(busy.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0);
        REQUIRE(::listen(busy.get(), 1) == 0);
        busyPort = detail::localPort(busy.get());
        REQUIRE(busyPort != 0);
        MessagePtr welcome = sa.get(AllocationStrategy::always);
        TCPServerConfigurator("127.0.0.1", busyPort).prepareRequest(*welcome);
        (void)(*srv)->enqueueToPeer(welcome);
        MessagePtr back = expectMessage(**srv);
        CHECK(statusOf(*back) == AmpeStatus::listen_failed);
        expectClosedSignal(**srv, back->bhdr.channel_number);
    }

    // The client connects; five requests, each answered before the next.
    const Connection c = connect(sa, **srv, *cli, UDSClientConfigurator(path), &ca);
    constexpr int N = 5;
    for (int i = 0; i < N; ++i) {
        (void)cli->enqueueToPeer(ca.request(c.clientCn, "req-" + std::to_string(i)));
        MessagePtr req = expectMessage(**srv);
        REQUIRE(vcOf(*req) == ValidCombination::AppRequest);
        req->asResponse();
        (void)(*srv)->enqueueToPeer(req);
        MessagePtr resp = expectMessage(*cli);
        REQUIRE(vcOf(*resp) == ValidCombination::AppResponse);
        CHECK(bodyText(*resp) == "req-" + std::to_string(i));
    }
    // The counters of both ends agree on the handshake; the requests are 16 + 5 bytes each way.
    (void)settle(*cr);
    std::vector<ChannelStats> chs = settle(*sr);
    EngineStats s = sr->stats();
    const EngineStats cs = cr->stats();
    CHECK(s.messagesIn == tr(1 + N));
    CHECK(s.messagesOut == tr(1 + N));
    CHECK(cs.messagesOut == tr(1 + N));
    CHECK(cs.messagesIn == tr(1 + N));
    CHECK(s.bytesIn == cs.bytesOut);
    CHECK(s.bytesOut == cs.bytesIn);
    const std::uint64_t helloIn = s.bytesIn - tr(N * Frame(5));
    const std::uint64_t helloOut = s.bytesOut - tr(N * Frame(5));
    CHECK((!counted || helloIn > wire::HeaderSize));  // the HelloRequest carries the client's address
    CHECK(s.sendCalls == tr(1 + N));                  // one write per answer: nothing else was waiting
    CHECK(s.sendFrames == tr(1 + N));
    CHECK(s.connectionsOpened == 1);
    CHECK(s.listenersOpened == 1);
    CHECK(s.listenFailures == 1);
    CHECK(s.closedBye + s.closedPeer + s.closedError + s.closedDestroy == 0);
    // The server's channels: the listener and the connection.
    REQUIRE(chs.size() == 2);
    const ChannelStats* lst = findChannel(chs, lcn);
    REQUIRE(lst != nullptr);
    CHECK(lst->kind == ChannelStats::Kind::listener);
    CHECK(lst->state == "listening");
    CHECK(lst->address == "uds|" + path);
    const ChannelStats* con = findChannel(chs, c.serverCn);
    REQUIRE(con != nullptr);
    CHECK(con->kind == ChannelStats::Kind::connection);
    CHECK(con->state == "open");
    CHECK(con->address.rfind("uds|", 0) == 0);
    CHECK(con->messagesIn == tr(1 + N));
    CHECK(con->messagesOut == tr(1 + N));
    CHECK(con->bytesIn == s.bytesIn);
    CHECK(con->bytesOut == s.bytesOut);
    CHECK(con->queuedMessages == 0);
    CHECK(con->queuedBytes == 0);
    CHECK(con->since <= std::chrono::system_clock::now());

    // A hostile peer: its first frame is a request, not a HelloRequest. Refused, disconnected, logged.
    {
        detail::UniqueFd raw = rawUdsPeer(path);
        REQUIRE(hardening::sendAll(raw.get(), wire::frame(1, wire::AppRequestProto, 7, "", "boo")));
        REQUIRE(seesEof(raw.get()));
    }
    // A peer that says Hello, is answered, and goes away.
    {
        detail::UniqueFd raw = rawUdsPeer(path);
        REQUIRE(hardening::sendAll(raw.get(), wire::frame(2, wire::HelloRequestProto, 8, "", "")));
        MessagePtr req = expectMessage(**srv);
        REQUIRE(vcOf(*req) == ValidCombination::HelloRequest);
        const ChannelNumber rawCn = req->bhdr.channel_number;
        req->bhdr.proto.role = MessageRole::response;
        (void)(*srv)->enqueueToPeer(req);
        hardening::RawHeader h;
        std::string payload;
        REQUIRE(hardening::recvFrame(raw.get(), h, payload));
        CHECK(h.proto == wire::HelloResponseProto);
        CHECK(payload.empty());  // the peer's address noted on the request is not sent back
        raw.reset();
        expectClosedSignal(**srv, rawCn);
    }
    // The client sends a message too large for its limit to a channel still connecting: refused.
    const std::string nowhere = tempUdsPath();
    {
        // A UDS listener that never accepts, its backlog full: the Hello waits (retrying).
        detail::UniqueFd full(test::rawSocket(AF_UNIX));
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::memcpy(a.sun_path, nowhere.c_str(), nowhere.size() + 1);
        REQUIRE(::bind(full.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0);
        REQUIRE(::listen(full.get(), 0) == 0);
        std::vector<detail::UniqueFd> fillers;
        for (int i = 0; i < 64; ++i) {
            detail::UniqueFd f(detail::openStreamSocket(AF_UNIX));  // non-blocking: a full backlog refuses
            if (::connect(f.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
                break;
            }
            fillers.push_back(std::move(f));
        }
        MessagePtr hello = ca.get(AllocationStrategy::always);
        UDSClientConfigurator(nowhere).prepareRequest(*hello);
        const ChannelNumber pending = cli->enqueueToPeer(hello).channel_number;
        (void)cli->enqueueToPeer(ca.signal(pending, std::string(2000, 'x')));
        MessagePtr back = expectMessage(*cli);
        CHECK(back->isReturned());
        CHECK(statusOf(*back) == AmpeStatus::send_failed);
        const std::vector<ChannelStats> cchs = settle(*cr);
        const ChannelStats* conn = findChannel(cchs, pending);
        REQUIRE(conn != nullptr);
        CHECK(conn->kind == ChannelStats::Kind::connector);
        CHECK(conn->state == "retrying");
        CHECK(conn->address == "uds|" + nowhere);
        CHECK(conn->queuedMessages == 1);  // the Hello
        // The application gives up on it: a bye, not a connect failure.
        (void)cli->enqueueToPeer(ca.byeSignal(pending));
        expectClosedSignal(*cli, pending);
        test::removeFile(nowhere);
    }
    // A Hello to a path where nothing listens: a connect failure.
    {
        MessagePtr hello = ca.get(AllocationStrategy::always);
        UDSClientConfigurator(tempUdsPath()).prepareRequest(*hello);
        const ChannelNumber cn = cli->enqueueToPeer(hello).channel_number;
        MessagePtr back = expectMessage(*cli);
        CHECK(back->isReturned());
        expectClosedSignal(*cli, cn);
    }
    // The client says bye (ByeRequest), the server answers: both ends count a close by bye (the server's
    // ends when the client, having read the answer, closes its socket).
    (void)cli->enqueueToPeer(ca.byeRequest(c.clientCn));
    {
        MessagePtr bye = expectMessage(**srv);
        REQUIRE(vcOf(*bye) == ValidCombination::ByeRequest);
        bye->bhdr.proto.role = MessageRole::response;
        (void)(*srv)->enqueueToPeer(bye);
        MessagePtr answer = expectMessage(*cli);
        CHECK(vcOf(*answer) == ValidCombination::ByeResponse);
        expectClosedSignal(*cli, c.clientCn);
        expectClosedSignal(**srv, c.serverCn);
    }
    // One more connection, closed by destroying the server's group (with the listener).
    const Connection c2 = connect(sa, **srv, *cli, UDSClientConfigurator(path), &ca);
    srv.reset();  // destroy(): returns once the reactor has closed the group's channels
    expectClosedSignal(*cli, c2.clientCn);

    (void)settle(*sr);
    s = sr->stats();
    const EngineStats cs2 = cr->stats();
    // Server: 1 + N + raw Hello + ByeRequest + second Hello in; 1 + N + raw answer + ByeResponse + second
    // answer out.
    CHECK(s.messagesIn == tr(1 + N + 1 + 1 + 1));
    CHECK(s.messagesOut == tr(1 + N + 1 + 1 + 1));
    CHECK(s.bytesIn == helloIn + tr(N * Frame(5) + Frame(0) + Frame(0)) + helloIn);
    CHECK(s.bytesOut == helloOut + tr(N * Frame(5) + Frame(0) + Frame(0)) + helloOut);
    CHECK(s.connectionsOpened == 4);  // the client, the hostile peer, the raw peer, the client again
    CHECK(s.closedBye == 1);
    CHECK(s.closedPeer == 1);
    CHECK(s.closedError == 1);
    CHECK(s.closedDestroy == 1);
    CHECK(s.deadPeers == 0);
    CHECK(s.framesRefused == 1);
    CHECK(s.listenersOpened == 1);
    CHECK(s.listenersClosed == 1);
    CHECK(s.listenFailures == 1);
    CHECK(s.connectFailures == 0);
    CHECK(s.acceptBackoffs == 0);
    CHECK(s.sendRefused == 0);
    CHECK(s.poolEmptyPauses == 0);
    // Client: one refused send, one connect failure, two connections (the bye and the destroyed peer).
    CHECK(cs2.sendRefused == 1);
    CHECK(cs2.connectFailures == 1);
    CHECK(cs2.connectionsOpened == 2);
    CHECK(cs2.closedBye == 1);
    CHECK(cs2.closedPeer == 1);
    CHECK(cs2.closedError == 0);
    CHECK(cs2.framesRefused == 0);
    CHECK(cs2.messagesOut == tr(1 + N + 1 + 1));  // Hello, requests, ByeRequest, Hello
    CHECK(cs2.messagesIn == tr(1 + N + 1 + 1));   // HelloResponse, responses, ByeResponse, HelloResponse
    CHECK(cs2.listenersOpened == 0);

    // The log: the listener opened, the one that failed, the hostile frame; nothing per message.
    const std::vector<LogCapture::Line> lines = log.snapshot();
    REQUIRE(lines.size() == 3);
    CHECK(lines[0].level == LogLevel::debug);
    CHECK(lines[0].text.find("listening on uds|" + path) != std::string::npos);
    CHECK(lines[1].level == LogLevel::warning);
    CHECK(lines[1].text.find("cannot listen: listen_failed") != std::string::npos);
    CHECK(lines[1].text.find("127.0.0.1") != std::string::npos);
    CHECK(lines[1].text.find(std::to_string(busyPort)) != std::string::npos);
    CHECK(lines[2].level == LogLevel::warning);
    CHECK(lines[2].text.find("invalid frame") != std::string::npos);
    CHECK(lines[2].text.find("the first frame is not a HelloRequest") != std::string::npos);
    CHECK(lines[2].text.find("uds|") != std::string::npos);
}

TEST_CASE("stats: the pool's figures and pool_empty pauses are exact", "[stats]") {
    TOFU_SKIP_WITHOUT_UDS();  // its raw peers and addresses are Unix sockets
    Options so = DefaultOptions;
    so.initialPoolMsgs = 2;
    so.maxPoolMsgs = 4;
    std::unique_ptr<Reactor> sr = Reactor::Create(so);
    Ampe& sa = sr->ampe();
    EngineStats s = sr->stats();
    const std::uint64_t counted = s.traffic ? 1 : 0;  // TOFU_STATS=OFF keeps no high-water mark
    CHECK(s.poolInitial == 2);
    CHECK(s.poolMax == 4);
    CHECK(s.poolFree == 2);
    CHECK(s.poolFreeHigh == 2 * counted);
    CHECK(s.poolAllocated == 0);
    {
        std::vector<MessagePtr> held;
        for (int i = 0; i < 3; ++i) {
            held.push_back(sa.get(AllocationStrategy::always));
        }
        s = sr->stats();
        CHECK(s.poolFree == 0);
        CHECK(s.poolAllocated == 1);
    }
    s = sr->stats();
    CHECK(s.poolFree == 3);
    CHECK(s.poolFreeHigh == 3 * counted);
    CHECK(s.poolAllocated == 1);

    // A connection whose receiving engine has no pool message left pauses once, then reads on.
    std::unique_ptr<Reactor> cr = Reactor::Create();
    DestroyChannels srv(sa);
    DestroyChannels cli(cr->ampe());
    const std::string path = tempUdsPath();
    startListener(sa, *srv, UDSServerConfigurator(path));
    const Connection c = connect(sa, *srv, *cli, UDSClientConfigurator(path), &cr->ampe());
    (void)settle(*sr);
    std::vector<MessagePtr> held;
    while (MessagePtr m = sa.get(AllocationStrategy::poolOnly)) {
        held.push_back(std::move(m));
    }
    const EngineStats before = sr->stats();
    CHECK(before.poolFree == 0);
    CHECK(before.poolEmptyPauses == 0);
    (void)cli->enqueueToPeer(cr->ampe().signal(c.clientCn, "wait"));
    MessagePtr empty = expectMessage(*srv);
    CHECK(empty->fromEngine());
    CHECK(empty->status() == AmpeStatus::pool_empty);
    held.clear();  // the pool refills: reading resumes
    MessagePtr got = expectNonPoolSignal(*srv);
    CHECK(got->text() == "wait");
    (void)settle(*sr);
    s = sr->stats();
    CHECK(s.poolEmptyPauses == 1);
    CHECK(s.poolAllocated == before.poolAllocated);  // the pool_empty signal is not the pool's
    CHECK(s.messagesIn == before.messagesIn + counted);
}

namespace {

// ---- a small JSON parser: enough to prove the rendering is JSON and to read it back ----

struct Json;
using JsonObject = std::map<std::string, Json>;
using JsonArray = std::vector<Json>;
struct Json {
    std::variant<std::nullptr_t, bool, double, std::string, JsonArray, JsonObject> v;
    [[nodiscard]] const Json& operator[](const std::string& k) const { return std::get<JsonObject>(v).at(k); }
    [[nodiscard]] const Json& operator[](std::size_t i) const { return std::get<JsonArray>(v).at(i); }
    [[nodiscard]] double num() const { return std::get<double>(v); }
    [[nodiscard]] const std::string& str() const { return std::get<std::string>(v); }
};

class JsonParser {
  public:
    explicit JsonParser(std::string_view s) : s_(s) {}
    /// The whole text as one value; throws std::runtime_error on anything that is not JSON.
    Json parseAll() {
        Json j = value();
        ws();
        if (i_ != s_.size()) {
            fail("trailing text");
        }
        return j;
    }

  private:
    [[noreturn]] void fail(const char* what) const {
        throw std::runtime_error(std::string(what) + " at " + std::to_string(i_));
    }
    void ws() {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t')) {
            ++i_;
        }
    }
    char peek() {
        ws();
        if (i_ >= s_.size()) {
            fail("unexpected end");
        }
        return s_[i_];
    }
    void expect(char c) {
        if (peek() != c) {
            fail("unexpected character");
        }
        ++i_;
    }
    bool literal(std::string_view w) {
        if (s_.substr(i_, w.size()) == w) {
            i_ += w.size();
            return true;
        }
        return false;
    }
    Json value() {
        const char c = peek();
        if (c == '{') {
            ++i_;
            JsonObject o;
            if (peek() == '}') {
                ++i_;
                return Json{o};
            }
            for (;;) {
                std::string k = string();
                expect(':');
                o.emplace(std::move(k), value());
                if (peek() == ',') {
                    ++i_;
                    continue;
                }
                expect('}');
                return Json{o};
            }
        }
        if (c == '[') {
            ++i_;
            JsonArray a;
            if (peek() == ']') {
                ++i_;
                return Json{a};
            }
            for (;;) {
                a.push_back(value());
                if (peek() == ',') {
                    ++i_;
                    continue;
                }
                expect(']');
                return Json{a};
            }
        }
        if (c == '"') {
            return Json{string()};
        }
        if (literal("true")) {
            return Json{true};
        }
        if (literal("false")) {
            return Json{false};
        }
        if (literal("null")) {
            return Json{nullptr};
        }
        const std::size_t start = i_;
        if (i_ < s_.size() && s_[i_] == '-') {
            ++i_;
        }
        while (i_ < s_.size() && ((s_[i_] >= '0' && s_[i_] <= '9') || s_[i_] == '.' || s_[i_] == 'e' ||
                                  s_[i_] == 'E' || s_[i_] == '+' || s_[i_] == '-')) {
            ++i_;
        }
        if (i_ == start) {
            fail("not a value");
        }
        return Json{std::stod(std::string(s_.substr(start, i_ - start)))};
    }
    std::string string() {
        expect('"');
        std::string out;
        for (;;) {
            if (i_ >= s_.size()) {
                fail("unterminated string");
            }
            const char c = s_[i_++];
            if (c == '"') {
                return out;
            }
            if (static_cast<unsigned char>(c) < 0x20) {
                fail("control character in a string");
            }
            if (c != '\\') {
                out += c;
                continue;
            }
            if (i_ >= s_.size()) {
                fail("unterminated escape");
            }
            const char e = s_[i_++];
            switch (e) {
                case '"':
                case '\\':
                case '/':
                    out += e;
                    break;
                case 'n':
                    out += '\n';
                    break;
                case 't':
                    out += '\t';
                    break;
                case 'r':
                    out += '\r';
                    break;
                case 'b':
                    out += '\b';
                    break;
                case 'f':
                    out += '\f';
                    break;
                case 'u': {
                    if (i_ + 4 > s_.size()) {
                        fail("short \\u escape");
                    }
                    const unsigned long cp = std::stoul(std::string(s_.substr(i_, 4)), nullptr, 16);
                    i_ += 4;
                    if (cp >= 0x80) {
                        fail("\\u escape beyond ASCII (not produced by tofu)");
                    }
                    out += static_cast<char>(cp);
                    break;
                }
                default:
                    fail("bad escape");
            }
        }
    }

    std::string_view s_;
    std::size_t i_ = 0;
};

}  // namespace

TEST_CASE("stats: the JSON rendering parses and says what the structs say", "[stats]") {
    EngineStats e;
    e.messagesIn = 12;
    e.bytesOut = 1ULL << 40;
    e.closedPeer = 3;
    e.poolFree = 14;
    e.poolAllocated = 2;
    ChannelStats a;
    a.channel = 4660;
    a.kind = ChannelStats::Kind::connection;
    a.state = "open";
    a.address = "uds|/tmp/a \"b\"\\c\nd\x01";  // everything a path may hold
    a.queuedMessages = 2;
    a.queuedBytes = 300;
    a.messagesIn = 5;
    a.since = std::chrono::system_clock::time_point(std::chrono::milliseconds(1'700'000'000'123));
    ChannelStats b;
    b.channel = 7;
    b.kind = ChannelStats::Kind::listener;
    b.state = "listening";
    b.address = "tcp|127.0.0.1|5555";
    const std::vector<ChannelStats> chs{a, b};

    const std::string text = toJson(e, chs);
    INFO(text);
    const Json j = JsonParser(text).parseAll();
    CHECK(j["version"].num() == 1);
    const Json& eng = j["engine"];
    CHECK(std::get<bool>(eng["traffic"].v));
    CHECK(eng["messagesIn"].num() == 12);
    CHECK(eng["bytesOut"].num() == static_cast<double>(1ULL << 40));
    CHECK(eng["closedPeer"].num() == 3);
    CHECK(eng["poolFree"].num() == 14);
    CHECK(eng["poolAllocated"].num() == 2);
    CHECK(eng["sendRefused"].num() == 0);
    CHECK(std::get<JsonObject>(eng.v).size() == 26);  // every EngineStats field
    const Json& ch0 = j["channels"][0];
    CHECK(ch0["channel"].num() == 4660);
    CHECK(ch0["kind"].str() == "connection");
    CHECK(ch0["state"].str() == "open");
    CHECK(ch0["address"].str() == a.address);
    CHECK(ch0["queuedMessages"].num() == 2);
    CHECK(ch0["queuedBytes"].num() == 300);
    CHECK(ch0["messagesIn"].num() == 5);
    CHECK(ch0["since"].num() == 1'700'000'000'123.0);
    CHECK(std::get<JsonObject>(ch0.v).size() == 11);  // every ChannelStats field
    CHECK(j["channels"][1]["kind"].str() == "listener");
    CHECK(j["channels"][1]["address"].str() == "tcp|127.0.0.1|5555");
    CHECK(std::get<JsonArray>(j["channels"].v).size() == 2);

    // Engine figures alone, from a live engine.
    std::unique_ptr<Reactor> r = Reactor::Create();
    const Json live = JsonParser(toJson(r->stats())).parseAll();
    CHECK(live["engine"]["poolInitial"].num() == 16);
    CHECK(std::get<JsonArray>(live["channels"].v).empty());
}

TEST_CASE("stats: the formatters print one line each", "[stats]") {
    EngineStats e;
    e.messagesIn = 10;
    e.bytesIn = 210;
    e.messagesOut = 10;
    e.bytesOut = 210;
    e.sendCalls = 4;
    e.sendFrames = 10;
    e.closedBye = 1;
    e.poolFree = 14;
    e.poolMax = 64;
    const std::string line = fmt::format("{}", e);
    CHECK(line.find('\n') == std::string::npos);
    CHECK(line.find("in 10 msgs 210 B, out 10 msgs 210 B, 2.50 frames/sendmsg") == 0);
    CHECK(line.find("1 closed (bye 1 peer 0 error 0 destroy 0)") != std::string::npos);
    CHECK(line.find("pool 14 free of 64") != std::string::npos);
    e.traffic = false;
    CHECK(fmt::format("{}", e).find("traffic not counted; ") == 0);

    ChannelStats c;
    c.channel = 3;
    c.kind = ChannelStats::Kind::listener;
    c.state = "listening";
    c.address = "uds|/tmp/x";
    c.since = std::chrono::system_clock::now();
    const std::string cl = fmt::format("{}", c);
    CHECK(cl.find("ch 3 listener listening uds|/tmp/x queued 0 msgs 0 B") == 0);
    CHECK(fmt::format("{}", LogLevel::warning) == "warning");
}

TEST_CASE("stats: calls that gave up cost the reactor nothing, and every answer comes sorted", "[stats]") {
    std::unique_ptr<Reactor> r = Reactor::Create();
    DestroyChannels srv(r->ampe());
    DestroyChannels cli(r->ampe());
    const test::LocalAddress where = test::localAddress();  // UDS, or TCP where there is none (Wine)
    (void)startListener(r->ampe(), *srv, where.server);
    for (int i = 0; i < 3; ++i) {
        (void)connect(r->ampe(), *srv, *cli, where.client);
    }
    // Thousands of calls that do not wait: none of them stays queued for the reactor to answer.
    // One answered in time anyway is whole.
    for (int i = 0; i < 5000; ++i) {
        for (const std::chrono::milliseconds t :
             {std::chrono::milliseconds(0), std::chrono::milliseconds::min()}) {
            if (std::optional<std::vector<ChannelStats>> got = r->channelStats(t)) {  // below 0 is 0
                CHECK(got->size() == 7);
            }
        }
    }
    // One that waits is answered, with the listener and both ends of the three connections, by number.
    const std::vector<ChannelStats> chs = settle(*r);
    REQUIRE(chs.size() == 7);
    for (std::size_t i = 1; i < chs.size(); ++i) {
        CHECK(chs[i - 1].channel < chs[i].channel);
    }
}

TEST_CASE("stats: a peer's UDS name cannot forge log lines or break the JSON", "[stats]") {
    TOFU_SKIP_WITHOUT_UDS();  // its raw peers and addresses are Unix sockets
    LogCapture log;
    Options opts;
    opts.log = &LogCapture::callback;
    opts.logContext = &log;
    std::unique_ptr<Reactor> r = Reactor::Create(opts);
    DestroyChannels g(r->ampe());
    const std::string path = tempUdsPath();
    (void)startListener(r->ampe(), *g, UDSServerConfigurator(path));
    const std::string forged = path + ".x\ntofu error: FORGED\x1b[2J\xff";
    detail::UniqueFd raw = rawUdsPeer(path, forged);
    // Connected and accepted: its snapshot shows the name in plain ASCII.
    std::vector<ChannelStats> chs;
    for (int i = 0; i < 1000 && chs.size() < 2; ++i) {
        chs = settle(*r);
    }
    REQUIRE(chs.size() == 2);
    const ChannelStats& peer = chs[0].kind == ChannelStats::Kind::connection ? chs[0] : chs[1];
    CHECK(peer.address == "uds|" + path + ".x\\x0atofu error: FORGED\\x1b[2J\\xff");
    const std::string json = toJson(r->stats(), chs);
    for (const char c : json) {
        CHECK(static_cast<unsigned char>(c) < 0x80);  // ASCII: valid UTF-8 whatever the peer's name
    }
    // Its invalid first frame is logged on one line, the name escaped.
    REQUIRE(hardening::sendAll(raw.get(), wire::frame(1, wire::AppRequestProto, 7, "", "boo")));
    REQUIRE(seesEof(raw.get()));
    (void)settle(*r);
    const std::vector<LogCapture::Line> lines = log.snapshot();
    REQUIRE(!lines.empty());
    const std::string& last = lines.back().text;
    CHECK(last.find("invalid frame") != std::string::npos);
    CHECK(last.find('\n') == std::string::npos);
    CHECK(last.find('\x1b') == std::string::npos);
    CHECK(last.find("\\x0atofu error: FORGED") != std::string::npos);
    test::removeFile(forged);
}
