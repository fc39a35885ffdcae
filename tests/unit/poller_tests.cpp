// Poller backends: the same cases over every backend built here.
#include <array>
#include <catch2/catch.hpp>
#include <chrono>
#include <vector>

#include "poller/poller.hpp"
#include "socket.hpp"

using namespace tofu;
using namespace tofu::detail;

namespace {

struct Pair {
    UniqueFd a;
    UniqueFd b;
    Pair() {
        NativeSocket x = InvalidSocket;
        NativeSocket y = InvalidSocket;
        const bool made = makeWakePair(x, y);  // socketpair(); a loopback TCP pair on Windows
        a.reset(x);
        b.reset(y);
        REQUIRE(made);
    }
};

std::vector<PollerKind> kinds() {
    std::vector<PollerKind> k{PollerKind::poll};
#if defined(__linux__)
    k.push_back(PollerKind::epoll);
#endif
#if defined(__APPLE__) || defined(__FreeBSD__)
    k.push_back(PollerKind::kqueue);
#endif
    return k;
}

std::vector<PollEvent> waitFor(Poller& p, int ms) {
    std::array<PollEvent, 512> ev{};
    const std::size_t n = p.wait(ev, ms);
    return {ev.begin(), ev.begin() + static_cast<std::ptrdiff_t>(n)};
}

}  // namespace

TEST_CASE("poller: readiness, interest changes, hang-up and timeouts", "[poller]") {
    for (PollerKind kind : kinds()) {
        std::unique_ptr<Poller> p = makePoller(kind);
        INFO(p->name());
        Pair s;
        p->add(s.a.get(), PollEvents::In, 42);

        // nothing to read: a timeout in bounded time, no event
        const auto t0 = std::chrono::steady_clock::now();
        REQUIRE(waitFor(*p, 50).empty());
        REQUIRE(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));

        REQUIRE(sendSome(s.b.get(), "x", 1) == 1);
        std::vector<PollEvent> ev = waitFor(*p, 1000);
        REQUIRE(ev.size() == 1);
        REQUIRE(ev[0].token == 42);
        REQUIRE((ev[0].events & PollEvents::In) != 0);

        // writable once asked for, with a new token
        p->modify(s.a.get(), PollEvents::In | PollEvents::Out, 43);
        ev = waitFor(*p, 1000);
        REQUIRE(ev.size() == 1);
        REQUIRE(ev[0].token == 43);
        REQUIRE((ev[0].events & PollEvents::Out) != 0);

        // no interest: silent although readable
        p->modify(s.a.get(), 0, 43);
        REQUIRE(waitFor(*p, 20).empty());

        // the peer closes: Hup (or In with EOF) is reported
        p->modify(s.a.get(), PollEvents::In, 44);
        s.b.reset();
        ev = waitFor(*p, 1000);
        REQUIRE(ev.size() == 1);
        REQUIRE((ev[0].events & (PollEvents::Hup | PollEvents::In)) != 0);

        p->remove(s.a.get());
        REQUIRE(waitFor(*p, 20).empty());
        p->remove(s.a.get());  // twice: harmless
    }
}

TEST_CASE("poller: many descriptors keep their tokens", "[poller]") {
    for (PollerKind kind : kinds()) {
        std::unique_ptr<Poller> p = makePoller(kind);
        INFO(p->name());
        std::vector<Pair> pairs(200);
        for (std::size_t i = 0; i < pairs.size(); ++i) {
            p->add(pairs[i].a.get(), PollEvents::In, 1000 + i);
        }
        // remove every third, write to every one
        for (std::size_t i = 0; i < pairs.size(); i += 3) {
            p->remove(pairs[i].a.get());
        }
        for (Pair& pr : pairs) {
            REQUIRE(sendSome(pr.b.get(), "y", 1) == 1);
        }
        std::vector<PollEvent> ev = waitFor(*p, 1000);
        REQUIRE(ev.size() == pairs.size() - (pairs.size() + 2) / 3);
        for (const PollEvent& e : ev) {
            const std::size_t i = e.token - 1000;
            REQUIRE(i < pairs.size());
            REQUIRE(i % 3 != 0);
        }
    }
}

TEST_CASE("poller: selection", "[poller]") {
#if defined(_WIN32)
    REQUIRE(std::string(makePoller(PollerKind::poll)->name()) == "wsapoll");
    REQUIRE(std::string(makePoller(PollerKind::automatic)->name()) == "wsapoll");
    REQUIRE_THROWS_AS(makePoller(PollerKind::epoll), AmpeError);
#else
    REQUIRE(std::string(makePoller(PollerKind::poll)->name()) == "poll");
#endif
    REQUIRE(makePoller(PollerKind::automatic) != nullptr);
#if defined(__linux__)
    REQUIRE(std::string(makePoller(PollerKind::epoll)->name()) == "epoll");
    REQUIRE_THROWS_AS(makePoller(PollerKind::kqueue), AmpeError);
#endif
}

TEST_CASE("poller: more ready descriptors than one wait reports all get their turn", "[poller]") {
    for (PollerKind kind : kinds()) {
        std::unique_ptr<Poller> p = makePoller(kind);
        INFO(p->name());
        std::vector<Pair> pairs(300);  // the reactor takes at most 256 events per wait
        for (std::size_t i = 0; i < pairs.size(); ++i) {
            p->add(pairs[i].a.get(), PollEvents::In, 1000 + i);
            REQUIRE(sendSome(pairs[i].b.get(), "z", 1) == 1);  // all stay readable (level-triggered)
        }
        std::vector<bool> seen(pairs.size(), false);
        for (int round = 0; round < 3; ++round) {
            std::array<PollEvent, 256> ev{};
            const std::size_t n = p->wait(ev, 1000);
            REQUIRE(n > 0);
            REQUIRE(n <= ev.size());
            for (std::size_t k = 0; k < n; ++k) {
                seen[ev[k].token - 1000] = true;
            }
        }
        std::size_t starved = 0;
        for (bool s : seen) {
            starved += s ? 0 : 1;
        }
        CHECK(starved == 0);
    }
}
