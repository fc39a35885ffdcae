// The text helpers shared by the header and configuration parsers (src/text.hpp).
#include <catch2/catch.hpp>

#include "text.hpp"

using tofu::detail::trim;

TEST_CASE("text: trim cuts the given characters at both ends only", "[text]") {
    STATIC_REQUIRE(trim("  a b\t") == "a b");  // spaces and tabs by default
    REQUIRE(trim("") == "");
    REQUIRE(trim(" \t \t").empty());
    REQUIRE(trim("x") == "x");
    REQUIRE(trim("\r\nname \r\n") == "\r\nname \r\n");  // CR and LF are not blanks
    REQUIRE(trim("\r\nname \r\n", " \t\r\n") == "name");
    REQUIRE(trim(":a:", ":") == "a");
}
