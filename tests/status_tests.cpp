// Statuses: the original's order, names, and the C++ error category.
#include <catch2/catch.hpp>
#include <system_error>

#include "tofu/status.hpp"

using namespace tofu;

TEST_CASE("status: values keep the original's order", "[status]") {
    REQUIRE(status_to_raw(AmpeStatus::success) == 0);
    REQUIRE(status_to_raw(AmpeStatus::invalid_mchn_group) == 12);
    REQUIRE(status_to_raw(AmpeStatus::channel_closed) == 23);
    REQUIRE(status_to_raw(AmpeStatus::unknown_error) == 32);
    REQUIRE(invelid_mchn_group == AmpeStatus::invalid_mchn_group);
    REQUIRE(raw_to_status(200) == AmpeStatus::unknown_error);
    for (std::uint8_t v = 0; v <= 32; ++v) {
        REQUIRE(status_to_raw(raw_to_status(v)) == v);
        REQUIRE_FALSE(statusName(raw_to_status(v)).empty());
    }
    REQUIRE(statusName(AmpeStatus::pool_empty) == "pool_empty");
}

TEST_CASE("status: error category and exceptions", "[status]") {
    const std::error_code ec = AmpeStatus::listen_failed;  // implicit: is_error_code_enum
    REQUIRE(ec.category() == tofu_category());
    REQUIRE(std::string(ec.category().name()) == "tofu");
    REQUIRE(ec.message() == "listen_failed");
    try {
        status_to_error(AmpeStatus::connect_failed);
        FAIL("no throw");
    } catch (const std::system_error& e) {  // catchable as the standard type
        REQUIRE(e.code() == AmpeStatus::connect_failed);
    }
    REQUIRE_NOTHROW(status_to_error(AmpeStatus::success));
    REQUIRE_NOTHROW(raw_to_error(0));
    try {
        raw_to_error(status_to_raw(AmpeStatus::pool_empty));
        FAIL("no throw");
    } catch (const AmpeError& e) {
        REQUIRE(e.status() == AmpeStatus::pool_empty);
    }
}
