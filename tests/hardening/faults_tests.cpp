// Faults (issue #6): descriptor exhaustion at accept (EMFILE), and destroying groups and engines while
// connects, sends and receives are in flight, a thousand times.
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <catch2/catch.hpp>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine.hpp"
#include "hardening_support.hpp"

using namespace tofu;
using namespace tofu::hardening;

namespace {

bool readable(int fd, int ms) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, ms) == 1;
}

std::string helloHeaders(std::uint16_t port) {
    return "~connect_to:tcp|127.0.0.1|" + std::to_string(port) + "\r\n";
}

struct FdCloser {
    std::vector<int> fds;
    ~FdCloser() {
        for (int fd : fds) {
            if (fd >= 0) {
                ::close(fd);
            }
        }
    }
    int add(int fd) {
        fds.push_back(fd);
        return fd;
    }
};

ChannelNumber openListener(EchoServer& srv, const Configurator& cfg) {
    MessagePtr welcome = srv.ampe().get(AllocationStrategy::always);
    cfg.prepareRequest(*welcome);
    const BinaryHeader sent = srv.group().enqueueToPeer(welcome);
    MessagePtr resp = srv.group().waitReceive(10 * waitReceive_SEC_TIMEOUT);
    REQUIRE(resp);
    REQUIRE(raw_to_status(resp->bhdr.status) == AmpeStatus::success);
    srv.addListener(sent.channel_number);
    return sent.channel_number;
}

bool isEngineSignal(const Message& m, AmpeStatus st) {
    return m.bhdr.proto.mtype == MessageType::regular && m.bhdr.proto.role == MessageRole::signal &&
           m.bhdr.proto.origin == OriginFlag::engine && raw_to_status(m.bhdr.status) == st;
}

/// The next message of g that is not a pool_empty notice; empty after `seconds`.
MessagePtr nextMessage(ChannelGroup& g, double seconds = 10.0) {
    const auto t0 = std::chrono::steady_clock::now();
    for (;;) {
        const double left = seconds - secondsSince(t0);
        if (left <= 0) {
            return {};
        }
        MessagePtr m = g.waitReceive(static_cast<std::uint64_t>(left * 1e9));
        if (m && isEngineSignal(*m, AmpeStatus::pool_empty)) {
            continue;
        }
        return m;
    }
}

}  // namespace

namespace {
/// The engine log's lines (the callback runs on the reactor thread and needs no descriptor).
struct LogLines {
    std::mutex mutex;
    std::vector<std::string> lines;
    static void add(void* self, LogLevel level, std::string_view text) {
        auto* l = static_cast<LogLines*>(self);
        std::lock_guard lock(l->mutex);
        l->lines.push_back(std::string(detail::enumName(level)) + ": " + std::string(text));
    }
    [[nodiscard]] long count(std::string_view what) {
        std::lock_guard lock(mutex);
        long n = 0;
        for (const std::string& line : lines) {
            n += line.find(what) != std::string::npos ? 1 : 0;
        }
        return n;
    }
};
}  // namespace

TEST_CASE("hardening: accept hits EMFILE, the engine backs off and serves again", "[hardening][faults]") {
    LogLines log;
    Options withLog = DefaultOptions;
    withLog.log = &LogLines::add;
    withLog.logContext = &log;
    EchoServer srv(withLog);
    const std::uint16_t port = findFreeTcpPort();
    openListener(srv, TCPServerConfigurator("127.0.0.1", port));
    ChannelGroup* probeGroup = srv.ampe().create();  // the main thread's own group, for Hello/Welcome probes
    srv.start();
    FdCloser fds;
    NofileGuard nofile;

    // An established connection, and two sockets made while descriptors are still available.
    const int a = fds.add(rawSocket());
    REQUIRE(rawConnect(a, port));
    REQUIRE(sendAll(a, frame(1, HelloRequestProto, 1, helloHeaders(port), "")));
    RawHeader h;
    std::string payload;
    REQUIRE(recvFrame(a, h, payload));
    REQUIRE(h.proto == HelloResponseProto);
    const int b = fds.add(rawSocket());
    const int c = fds.add(rawSocket());
    REQUIRE(b >= 0);
    REQUIRE(c >= 0);
    const long hellosBefore = srv.hellos.load();
    const std::uint16_t sparePort = findFreeTcpPort();  // for a Welcome while exhausted
    {
        // The same refused Hello once while descriptors are plenty: UBSan's type checks of the engine's
        // objects (a Connector here) are cached from then on and need no pipe when none is left.
        MessagePtr warm = srv.ampe().get(AllocationStrategy::always);
        TCPClientConfigurator("127.0.0.1", sparePort).prepareRequest(*warm);
        (void)probeGroup->enqueueToPeer(warm);
        const MessagePtr back = nextMessage(*probeGroup);  // the Hello, returned: nothing listens there
        REQUIRE(back != nullptr);
        CHECK(back->isReturned());
        const MessagePtr notice = nextMessage(*probeGroup);
        REQUIRE(notice != nullptr);
        CHECK(notice->isCloseNotice());
    }

    // No descriptor left: the soft limit becomes the lowest free descriptor number.
    const int limit = lowestFreeFd();
    REQUIRE(limit > 0);
    if (!nofile.lowerTo(static_cast<rlim_t>(limit))) {
        WARN("SKIP: setrlimit(RLIMIT_NOFILE, " << limit << ") refused: " << std::strerror(errno));
        srv.ampe().destroy(probeGroup);
        return;
    }
    // While no descriptor is left, nothing here may need one — Catch's assertions included (UBSan's type
    // checks open a pipe on a cache miss): observe into plain variables, assert once descriptors are back.
    struct Observed {
        int probe = 0, probeErr = 0;
        bool bConnected = false, bHelloSent = false, aServed = false, bServed = true;
        RawHeader aResp;
        std::string aPayload;
        BinaryHeader helloSent, welcomeSent;
        MessagePtr helloBack, helloClosed, welcomeBack, welcomeClosed;
        long hellos = 0, listenerClosed = 0, returned = 0, other = 0;
        double wallMs = 0, cpuMs = 0;
    } o;
    {
        o.probe = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        o.probeErr = errno;
        if (o.probe >= 0) {
            ::close(o.probe);
        }
        // b connects (the kernel completes it into the accept queue) and says Hello; accept4 fails with
        // EMFILE.
        const auto tExhausted = std::chrono::steady_clock::now();
        const double cpu0 = processCpuMs();
        o.bConnected = rawConnect(b, port);
        o.bHelloSent = o.bConnected && sendAll(b, frame(2, HelloRequestProto, 2, helloHeaders(port), ""));
        // Meanwhile the engine keeps serving the connection it has.
        o.aServed = sendAll(a, frame(1, AppRequestProto, 100, "", "still there?")) &&
                    recvFrame(a, o.aResp, o.aPayload);
        // The application's own requests that need a descriptor come back with a status.
        MessagePtr hello = srv.ampe().get(AllocationStrategy::always);
        TCPClientConfigurator("127.0.0.1", port).prepareRequest(*hello);
        o.helloSent = probeGroup->enqueueToPeer(hello);
        o.helloBack = nextMessage(*probeGroup);
        o.helloClosed = nextMessage(*probeGroup);
        MessagePtr welcome = srv.ampe().get(AllocationStrategy::always);
        TCPServerConfigurator("127.0.0.1", sparePort).prepareRequest(*welcome);
        o.welcomeSent = probeGroup->enqueueToPeer(welcome);
        o.welcomeBack = nextMessage(*probeGroup);
        o.welcomeClosed = nextMessage(*probeGroup);
        // b is not served while descriptors are exhausted; the application hears nothing about it.
        o.bServed = readable(b, 500);
        o.wallMs = secondsSince(tExhausted) * 1e3;
        o.cpuMs = processCpuMs() - cpu0;
        o.hellos = srv.hellos.load();
        o.listenerClosed = srv.listenerClosed.load();
        o.returned = srv.returned.load();
        o.other = srv.other.load();
    }
    nofile.restore();
    const auto tRestored = std::chrono::steady_clock::now();
    const bool bReadable = readable(b, 5'000);
    const double acceptLatencyMs = secondsSince(tRestored) * 1e3;

    REQUIRE(o.probe == -1);
    REQUIRE(o.probeErr == EMFILE);
    REQUIRE(o.bConnected);
    REQUIRE(o.bHelloSent);
    REQUIRE(o.aServed);
    REQUIRE(o.aResp.proto == AppResponseProto);
    REQUIRE(o.aResp.id == 100);
    REQUIRE(o.aPayload == "still there?");
    REQUIRE(o.helloBack);
    CHECK(o.helloBack->bhdr.message_id == o.helloSent.message_id);
    CHECK(o.helloBack->bhdr.proto.origin == OriginFlag::engine);
    const AmpeStatus helloStatus = raw_to_status(o.helloBack->bhdr.status);
    CHECK(helloStatus == AmpeStatus::connect_failed);
    REQUIRE(o.helloClosed);
    CHECK(isEngineSignal(*o.helloClosed, AmpeStatus::channel_closed));
    REQUIRE(o.welcomeBack);
    CHECK(o.welcomeBack->bhdr.message_id == o.welcomeSent.message_id);
    CHECK(o.welcomeBack->bhdr.proto.mtype == MessageType::welcome);
    const AmpeStatus welcomeStatus = raw_to_status(o.welcomeBack->bhdr.status);
    CHECK(welcomeStatus == AmpeStatus::listen_failed);
    REQUIRE(o.welcomeClosed);
    CHECK(isEngineSignal(*o.welcomeClosed, AmpeStatus::channel_closed));
    CHECK_FALSE(o.bServed);
    CHECK(o.hellos == hellosBefore);
    CHECK(o.listenerClosed == 0);
    CHECK(o.returned == 0);
    CHECK(o.other == 0);
    // Backing off, not spinning on a listener that stays readable.
    INFO("CPU " << o.cpuMs << " ms in " << o.wallMs << " ms of exhaustion");
    CHECK(o.cpuMs < 0.5 * o.wallMs);
    const double cpuMs = o.cpuMs, wallMs = o.wallMs;

    // Descriptors free up: the pending connection is accepted and served within a bounded time.
    REQUIRE(bReadable);
    REQUIRE(recvFrame(b, h, payload));
    REQUIRE(h.proto == HelloResponseProto);
    REQUIRE(h.id == 2);
    // And new connections are accepted as before.
    REQUIRE(rawConnect(c, port));
    REQUIRE(sendAll(c, frame(3, HelloRequestProto, 3, helloHeaders(port), "")));
    REQUIRE(recvFrame(c, h, payload));
    REQUIRE(h.proto == HelloResponseProto);
    REQUIRE(h.id == 3);
    REQUIRE(srv.hellos.load() == hellosBefore + 2);
    REQUIRE(srv.listenerClosed.load() == 0);
    // Observed: each pause counted and logged with its cause, and the resumption logged.
    const EngineStats st = srv.reactor().stats();
    CHECK(st.acceptBackoffs >= 1);
    CHECK(log.count("warning: channel ") == static_cast<long>(st.acceptBackoffs) + 1);  // + the Welcome
    CHECK(log.count("(Too many open files): accepting again in 100 ms") ==
          static_cast<long>(st.acceptBackoffs));
    CHECK(log.count("cannot listen: listen_failed") == 1);
    CHECK(log.count("info: channel ") >= 1);
    CHECK(log.count(" again") >= 1);

    report(
        "emfile: accept4 failed with EMFILE; the listener stayed open and silent (no status to the "
        "application), CPU {:.0f} ms over {:.0f} ms of exhaustion; the existing channel kept working; a "
        "Hello "
        "needing a socket came back with {}, a Welcome with {}; the pending connection was served {:.0f} ms "
        "after descriptors "
        "were freed",
        cpuMs, wallMs, statusName(helloStatus), statusName(welcomeStatus), acceptLatencyMs);
    srv.ampe().destroy(probeGroup);
}

namespace {

/// Aborts the process with a message when the loop makes no progress for `limit` seconds: a hang
/// becomes a failure with the iteration named, not a ctest timeout.
class Watchdog {
  public:
    explicit Watchdog(double limit) : limit_(limit), thread_([this] { run(); }) {}
    ~Watchdog() {
        {
            std::lock_guard lock(mutex_);
            done_ = true;
        }
        cv_.notify_all();
        thread_.join();
    }
    Watchdog(const Watchdog&) = delete;
    Watchdog& operator=(const Watchdog&) = delete;

    void progress(long iteration, int kind) {
        iteration_.store(iteration);
        kind_.store(kind);
    }

  private:
    void run() {
        long last = -2;
        auto since = std::chrono::steady_clock::now();
        std::unique_lock lock(mutex_);
        while (!cv_.wait_for(lock, std::chrono::milliseconds(100), [this] { return done_; })) {
            const long now = iteration_.load();
            if (now != last) {
                last = now;
                since = std::chrono::steady_clock::now();
            } else if (secondsSince(since) > limit_) {
                std::fprintf(stderr,
                             "HANG: destroy loop iteration %ld (kind %d) made no progress for %.0f s\n", now,
                             kind_.load(), limit_);
                std::fflush(stderr);
                std::abort();
            }
        }
    }

    double limit_;
    std::atomic<long> iteration_{-1};
    std::atomic<int> kind_{-1};
    std::mutex mutex_;
    std::condition_variable cv_;
    bool done_ = false;
    std::thread thread_;
};

ChannelNumber sendHello(Ampe& ampe, ChannelGroup& g, const Configurator& cfg) {
    MessagePtr hello = ampe.get(AllocationStrategy::always);
    cfg.prepareRequest(*hello);
    return g.enqueueToPeer(hello).channel_number;
}

void sendRequests(Ampe& ampe, ChannelGroup& g, ChannelNumber cn, int n) {
    for (int i = 0; i < n; ++i) {
        MessagePtr m = ampe.get(AllocationStrategy::always);
        m->bhdr.proto.mtype = MessageType::regular;
        m->bhdr.proto.role = MessageRole::request;
        m->bhdr.channel_number = cn;
        m->body.assign(std::string(64 + 37 * i % 2000, 'x'));
        g.enqueueToPeer(m);
    }
}

/// A thread blocked in waitReceive on g (nothing is ever sent to g): it must be woken by destruction.
class BlockedReceiver {
  public:
    explicit BlockedReceiver(ChannelGroup* g)
        : thread_([this, g] {
              try {
                  MessagePtr m = g->waitReceive(waitReceive_INFINITE_TIMEOUT);
                  woke_ = m ? 1 : 2;  // 1: a message (wrong), 2: empty (wrong)
              } catch (const AmpeError& e) {
                  woke_ = e.status() == AmpeStatus::shutdown_started ? 3 : 4;
              }
          }) {
        // Destroy only once it is inside waitReceive: the group is freed afterwards.
        auto* impl = static_cast<detail::MchnGroup*>(g);
        blocked_ = waitUntil([impl] { return impl->mailbox.waiters() == 1; }, 10.0);
    }
    ~BlockedReceiver() {
        if (thread_.joinable()) {
            thread_.join();
        }
    }
    BlockedReceiver(const BlockedReceiver&) = delete;
    BlockedReceiver& operator=(const BlockedReceiver&) = delete;

    [[nodiscard]] bool blocked() const noexcept { return blocked_; }
    /// Joins; true when it woke with shutdown_started.
    bool wokeWithShutdown() {
        thread_.join();
        return woke_ == 3;
    }

  private:
    std::atomic<int> woke_{0};
    bool blocked_ = false;
    std::thread thread_;
};

}  // namespace

TEST_CASE("hardening: destroy groups and engines while busy, 1,000 times", "[hardening][faults]") {
    const long iterations = envNumber("TOFU_DESTROY_ITERATIONS", 1000);
    // A time cap below ctest's 120 s for slow sanitizer builds on a loaded machine; a hang is the watchdog's.
    const double budgetSec = static_cast<double>(envNumber("TOFU_DESTROY_MAX_SECONDS", 75));
    CountingResource serverMem;
    CountingResource clientMem;
    Options sopts;
    sopts.initialPoolMsgs = 16;
    sopts.maxPoolMsgs = 256;
    sopts.allocator = &serverMem;
    Options copts = sopts;
    copts.allocator = &clientMem;

    auto srv = std::make_unique<EchoServer>(sopts);
    const std::uint16_t port = findFreeTcpPort();
    const std::string path = tempUdsPath();
    openListener(*srv, TCPServerConfigurator("127.0.0.1", port));
    openListener(*srv, UDSServerConfigurator(path));
    srv->start();
    auto client = Reactor::Create(copts);
    Ampe& ca = client->ampe();
    const Configurator tcp(TCPClientConfigurator("127.0.0.1", port));
    const Configurator uds(UDSClientConfigurator{path});

    constexpr int Kinds = 5;
    const char* kindNames[Kinds] = {"group: connect in flight", "group: requests and responses in flight",
                                    "group + blocked receiver", "client engine", "server engine"};
    double maxDestroyMs[Kinds] = {};
    long count[Kinds] = {};
    long serverGoneNoticed = 0;
    long done = 0;
    const auto t0 = std::chrono::steady_clock::now();
    {
        Watchdog watchdog(20.0);
        for (long i = 0; i < iterations; ++i) {
            if (secondsSince(t0) > budgetSec) {
                WARN("destroy loop stopped by its time cap after " << i << " of " << iterations
                                                                   << " iterations (" << budgetSec << " s)");
                break;
            }
            ++done;
            const int kind = static_cast<int>(i % Kinds);
            const Configurator& cfg = (i / Kinds) % 2 == 0 ? tcp : uds;
            watchdog.progress(i, kind);
            INFO("iteration " << i << ": " << kindNames[kind]);
            std::chrono::steady_clock::time_point td;
            switch (kind) {
                case 0: {  // connect (and the Hello, and requests queued behind it) in flight
                    ChannelGroup* g = ca.create();
                    const ChannelNumber cn = sendHello(ca, *g, cfg);
                    sendRequests(ca, *g, cn, 16);
                    td = std::chrono::steady_clock::now();
                    ca.destroy(g);
                    break;
                }
                case 1: {  // connected; requests on the wire, responses arriving, some received
                    ChannelGroup* g = ca.create();
                    const ChannelNumber cn = sendHello(ca, *g, cfg);
                    MessagePtr hr = nextMessage(*g);
                    REQUIRE(hr);
                    REQUIRE(hr->bhdr.proto.mtype == MessageType::hello);
                    REQUIRE(hr->bhdr.status == 0);
                    sendRequests(ca, *g, cn, 64);
                    for (long k = 0; k < i % 7; ++k) {
                        MessagePtr r = nextMessage(*g);
                        REQUIRE(r);
                        REQUIRE(r->bhdr.proto.role == MessageRole::response);
                    }
                    td = std::chrono::steady_clock::now();
                    ca.destroy(g);
                    break;
                }
                case 2: {  // a busy group and a receiver blocked on another one; both destroyed
                    ChannelGroup* g = ca.create();
                    ChannelGroup* idle = ca.create();
                    const ChannelNumber cn = sendHello(ca, *g, cfg);
                    sendRequests(ca, *g, cn, 32);
                    BlockedReceiver receiver(idle);
                    REQUIRE(receiver.blocked());
                    td = std::chrono::steady_clock::now();
                    ca.destroy(g);
                    ca.destroy(idle);
                    REQUIRE(receiver.wokeWithShutdown());
                    break;
                }
                case 3: {  // a whole client engine with traffic in flight and a blocked receiver
                    CountingResource mem;
                    Options o = copts;
                    o.allocator = &mem;
                    auto e = Reactor::Create(o);
                    ChannelGroup* g = e->ampe().create();
                    ChannelGroup* idle = e->ampe().create();
                    sendRequests(e->ampe(), *g, sendHello(e->ampe(), *g, tcp), 32);
                    sendRequests(e->ampe(), *g, sendHello(e->ampe(), *g, uds), 32);
                    if (i % 2 == 1) {
                        (void)nextMessage(*g);  // let some of it be answered
                    }
                    BlockedReceiver receiver(idle);
                    REQUIRE(receiver.blocked());
                    td = std::chrono::steady_clock::now();
                    e.reset();  // groups left to the engine
                    REQUIRE(receiver.wokeWithShutdown());
                    REQUIRE(mem.liveBlocks.load() == 0);
                    break;
                }
                default: {  // a whole server engine dies under a connected client that is sending
                    CountingResource mem;
                    Options o = sopts;
                    o.allocator = &mem;
                    auto f = Reactor::Create(o);
                    ChannelGroup* fg = f->ampe().create();
                    const std::string fpath = tempUdsPath();
                    {
                        MessagePtr w = f->ampe().get(AllocationStrategy::always);
                        UDSServerConfigurator(fpath).prepareRequest(*w);
                        fg->enqueueToPeer(w);
                        MessagePtr wr = nextMessage(*fg);
                        REQUIRE(wr);
                        REQUIRE(wr->bhdr.status == 0);
                    }
                    ChannelGroup* g = ca.create();
                    const ChannelNumber cn = sendHello(ca, *g, UDSClientConfigurator(fpath));
                    {
                        MessagePtr req = nextMessage(*fg);
                        REQUIRE(req);
                        REQUIRE(req->bhdr.proto.mtype == MessageType::hello);
                        req->bhdr.proto.role = MessageRole::response;
                        fg->enqueueToPeer(req);
                        MessagePtr hr = nextMessage(*g);
                        REQUIRE(hr);
                        REQUIRE(hr->bhdr.proto.mtype == MessageType::hello);
                        REQUIRE(hr->bhdr.status == 0);
                    }
                    sendRequests(ca, *g, cn, 32);
                    td = std::chrono::steady_clock::now();
                    f.reset();
                    const double ms = secondsSince(td) * 1e3;
                    REQUIRE(mem.liveBlocks.load() == 0);
                    // The client learns that its peer is gone: channel_closed within a bounded time
                    // (unsent requests may come back first, marked by the engine).
                    bool closed = false;
                    while (!closed) {
                        MessagePtr m = nextMessage(*g);
                        REQUIRE(m);
                        REQUIRE(m->bhdr.proto.origin == OriginFlag::engine);
                        closed =
                            isEngineSignal(*m, AmpeStatus::channel_closed) && m->bhdr.channel_number == cn;
                    }
                    ++serverGoneNoticed;
                    ca.destroy(g);
                    maxDestroyMs[kind] = std::max(maxDestroyMs[kind], ms);
                    ++count[kind];
                    continue;
                }
            }
            maxDestroyMs[kind] = std::max(maxDestroyMs[kind], secondsSince(td) * 1e3);
            ++count[kind];
        }
    }
    const double loopSec = secondsSince(t0);

    // The long-lived server survived all of it and still serves.
    {
        ChannelGroup* g = ca.create();
        const ChannelNumber cn = sendHello(ca, *g, tcp);
        MessagePtr hr = nextMessage(*g);
        REQUIRE(hr);
        REQUIRE(hr->bhdr.status == 0);
        sendRequests(ca, *g, cn, 1);
        MessagePtr r = nextMessage(*g);
        REQUIRE(r);
        REQUIRE(r->bhdr.proto.role == MessageRole::response);
        ca.destroy(g);
    }
    // Every connection the server's application saw opening, it also saw closing.
    const bool settled = waitUntil([&] { return srv->closed.load() == srv->hellos.load(); }, 15.0);
    INFO("server hellos " << srv->hellos.load() << " closed " << srv->closed.load());
    REQUIRE(settled);
    REQUIRE(srv->listenerClosed.load() == 0);
    REQUIRE(serverGoneNoticed == count[4]);
    REQUIRE(done >= std::min(iterations, 200L));

    report(
        "destroy: {} iterations in {:.1f} s ({:.1f} ms each); server answered {} hellos and {} requests, "
        "saw {} closes",
        done, loopSec, loopSec * 1e3 / static_cast<double>(done), srv->hellos.load(), srv->requests.load(),
        srv->closed.load());
    for (int k = 0; k < Kinds; ++k) {
        report("destroy: {:<40} x{:<4} slowest destroy {:.1f} ms", kindNames[k], count[k], maxDestroyMs[k]);
    }
    client.reset();
    srv.reset();
    REQUIRE(serverMem.liveBlocks.load() == 0);
    REQUIRE(clientMem.liveBlocks.load() == 0);
}
