// The notifier (the original's Notifier_tests): wakes coalesce until drained and re-armed.
#include <catch2/catch.hpp>
#include <thread>
#include <vector>

#include <poll.h>

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
