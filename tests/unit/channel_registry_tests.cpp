// The channel registry (the original's channels_tests): numbers, ownership checks and reuse.
#include <catch2/catch.hpp>
#include <set>
#include <vector>

#include "channel_registry.hpp"

using namespace tofu;
using namespace tofu::detail;

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
