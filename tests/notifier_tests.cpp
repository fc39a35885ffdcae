// Notifier (the original's Notifier_tests) and the channel registry (channels_tests).
#include <catch2/catch.hpp>
#include <set>
#include <thread>
#include <vector>

#include <poll.h>

#include "channel_registry.hpp"
#include "notifier.hpp"

using namespace tofu;
using namespace tofu::detail;

namespace {
bool readable(int fd) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0;
}
}  // namespace

TEST_CASE("notifier: notify coalesces until drained", "[notifier]") {
    const WakeKind kind = GENERATE(WakeKind::socketpair, WakeKind::eventfd);
    Notifier ntfr(kind);
    REQUIRE(ntfr.kind() == kind);
    for (int i = 0; i < 1000; ++i) {
        ntfr.notify();
    }
    REQUIRE(readable(ntfr.receiver()));
    ntfr.drain();
    REQUIRE_FALSE(readable(ntfr.receiver()));  // one wake-up for the whole burst
    ntfr.drain();
    ntfr.notify();
    REQUIRE_FALSE(readable(ntfr.receiver()));  // not re-armed: the reactor is still busy
    ntfr.rearm();
    ntfr.notify();
    REQUIRE(readable(ntfr.receiver()));
    ntfr.drain();
    REQUIRE_FALSE(readable(ntfr.receiver()));
}

TEST_CASE("notifier: concurrent notifiers never lose the wakeup", "[notifier]") {
    Notifier ntfr(GENERATE(WakeKind::socketpair, WakeKind::eventfd));
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 10000; ++i) {
                ntfr.notify();
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    REQUIRE(readable(ntfr.receiver()));
}

TEST_CASE("channels: numbers are random, unique, never 0 or 0xFFFF", "[channels]") {
    ChannelRegistry acn;
    const int owner = 0;
    std::set<ChannelNumber> seen;
    for (int i = 0; i < 5000; ++i) {
        const ChannelNumber cn = acn.allocate(&owner);
        REQUIRE(cn != 0);
        REQUIRE(cn != 0xFFFF);
        REQUIRE(seen.insert(cn).second);
    }
    REQUIRE(acn.count() == 5000);
}

TEST_CASE("channels: check tells unknown numbers and other groups apart", "[channels]") {
    ChannelRegistry acn;
    const int a = 0;
    const int b = 0;
    const ChannelNumber cn = acn.allocate(&a);
    REQUIRE(acn.check(cn, &a) == AmpeStatus::success);
    REQUIRE(acn.check(cn, &b) == AmpeStatus::invalid_mchn_group);
    REQUIRE(acn.check(static_cast<ChannelNumber>(cn + 1), &a) == AmpeStatus::invalid_channel_number);
    acn.remove(cn);
    REQUIRE(acn.check(cn, &a) == AmpeStatus::invalid_channel_number);
    acn.remove(cn);  // twice: harmless
    REQUIRE(acn.count() == 0);
}

TEST_CASE("channels: recently removed numbers are not reused", "[channels]") {
    ChannelRegistry acn;
    const int owner = 0;
    std::vector<ChannelNumber> removed;
    for (std::size_t i = 0; i < ChannelRegistry::RecentCapacity; ++i) {
        const ChannelNumber cn = acn.allocate(&owner);
        removed.push_back(cn);
        acn.remove(cn);
    }
    std::set<ChannelNumber> recent(removed.begin(), removed.end());
    REQUIRE(recent.size() == removed.size());  // each removal made a fresh number unavailable
    for (int i = 0; i < 2000; ++i) {
        REQUIRE(recent.count(acn.allocate(&owner)) == 0);
    }
}

TEST_CASE("channels: every number can be used once, then allocation fails instead of spinning",
          "[channels]") {
    ChannelRegistry acn;
    const int owner = 0;
    for (std::size_t i = 0; i < ChannelRegistry::Usable; ++i) {
        REQUIRE(acn.allocate(&owner) != 0);
    }
    REQUIRE(acn.allocate(&owner) == 0);
    acn.remove(42);
    REQUIRE(acn.allocate(&owner) == 42);  // only recently removed numbers left: reused rather than refused
}
