// The notifier (the original's Notifier_tests): wakes coalesce until drained and re-armed.
#include <catch2/catch.hpp>
#include <thread>
#include <vector>

#include "notifier.hpp"
#include "test_platform.hpp"

using namespace tofu;
using namespace tofu::detail;

namespace {
bool readable(NativeSocket fd) {
    return (tofu::test::pollOne(fd, tofu::test::PollIn, 0) & tofu::test::PollIn) != 0;
}
}  // namespace

TEST_CASE("notifier: notify coalesces until drained", "[notifier]") {
    const WakeKind kind = GENERATE(WakeKind::socketpair, WakeKind::eventfd);
#if !defined(__linux__)
    if (kind == WakeKind::eventfd) {
        TOFU_SKIP("eventfd is Linux only");
    }
#endif
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
    const WakeKind kind = GENERATE(WakeKind::socketpair, WakeKind::eventfd);
#if !defined(__linux__)
    if (kind == WakeKind::eventfd) {
        TOFU_SKIP("eventfd is Linux only");
    }
#endif
    Notifier ntfr(kind);
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
