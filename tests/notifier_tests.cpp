// Notifier (the original's Notifier_tests) and the channel registry (channels_tests).
#include <catch2/catch.hpp>
#include <set>
#include <thread>
#include <vector>

#include <poll.h>

#include "active_channels.hpp"
#include "notifier.hpp"

using namespace tofu;
using namespace tofu::detail;

namespace {
bool readable(int fd) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0;
}
}  // namespace

TEST_CASE("notifier: a notification byte travels and decodes back", "[notifier]") {
    Notifier ntfr;
    REQUIRE_FALSE(readable(ntfr.receiver()));
    const Notification sent{NotificationKind::message, Oob::on, ValidCombination::ByeSignal,
                            Alert::freedMemory};
    REQUIRE(ntfr.sendNotification(sent));
    REQUIRE(readable(ntfr.receiver()));
    const std::optional<Notification> got = ntfr.recvNotification();
    REQUIRE(got.has_value());
    REQUIRE(*got == sent);
    REQUIRE_FALSE(readable(ntfr.receiver()));
    REQUIRE_FALSE(ntfr.recvNotification().has_value());
}

TEST_CASE("notifier: the original's bit layout", "[notifier]") {
    // bit 0 kind, bit 1 oob, bits 2-5 hint, bit 6 alert
    REQUIRE(Notification{NotificationKind::message, Oob::off, ValidCombination::WelcomeRequest,
                         Alert::freedMemory}
                .pack() == 0x00);
    REQUIRE(Notification{NotificationKind::alert, Oob::off, ValidCombination::WelcomeRequest,
                         Alert::shutdownStarted}
                .pack() == 0x41);
    REQUIRE(Notification{NotificationKind::message, Oob::on, ValidCombination::AppSignal, Alert::freedMemory}
                .pack() == (0x02 | (8 << 2)));
    for (unsigned kind = 0; kind < 2; ++kind) {
        for (unsigned oob = 0; oob < 2; ++oob) {
            for (unsigned hint = 0; hint <= 8; ++hint) {
                for (unsigned alert = 0; alert < 2; ++alert) {
                    const Notification n{static_cast<NotificationKind>(kind), static_cast<Oob>(oob),
                                         static_cast<ValidCombination>(hint), static_cast<Alert>(alert)};
                    REQUIRE(Notification::unpack(n.pack()) == n);
                }
            }
        }
    }
    REQUIRE_FALSE(Notification::unpack(0x80).has_value());     // reserved bit
    REQUIRE_FALSE(Notification::unpack(9u << 2).has_value());  // hint beyond AppSignal
}

TEST_CASE("notifier: notify coalesces until drained", "[notifier]") {
    const WakeKind kind = GENERATE(WakeKind::socketpair, WakeKind::eventfd);
    Notifier ntfr(kind);
    REQUIRE(ntfr.kind() == kind);
    for (int i = 0; i < 1000; ++i) {
        ntfr.notify(Notification{});
    }
    REQUIRE(readable(ntfr.receiver()));
    if (kind == WakeKind::socketpair) {
        REQUIRE(ntfr.recvNotification().has_value());
    } else {
        ntfr.drain();  // one read takes the counter
    }
    REQUIRE_FALSE(readable(ntfr.receiver()));  // one wake-up for the whole burst
    ntfr.drain();
    ntfr.notify(Notification{});
    REQUIRE_FALSE(readable(ntfr.receiver()));  // not re-armed: the reactor is still busy
    ntfr.rearm();
    ntfr.notify(Notification{});
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
                ntfr.notify(Notification{});
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    REQUIRE(readable(ntfr.receiver()));
}

TEST_CASE("channels: numbers are random, unique, never 0 or 0xFFFF", "[channels]") {
    ActiveChannels acn;
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
    ActiveChannels acn;
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
    ActiveChannels acn;
    const int owner = 0;
    std::vector<ChannelNumber> removed;
    for (std::size_t i = 0; i < ActiveChannels::RecentCapacity; ++i) {
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
    ActiveChannels acn;
    const int owner = 0;
    for (std::size_t i = 0; i < ActiveChannels::Usable; ++i) {
        REQUIRE(acn.allocate(&owner) != 0);
    }
    REQUIRE(acn.allocate(&owner) == 0);
    acn.remove(42);
    REQUIRE(acn.allocate(&owner) == 42);  // only recently removed numbers left: reused rather than refused
}
