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

TEST_CASE("text: printable escapes control bytes, high bytes and backslashes", "[text]") {
    using tofu::detail::printable;
    REQUIRE(printable("uds|/tmp/a b.sock") == "uds|/tmp/a b.sock");  // plain ASCII stays
    REQUIRE(printable("x\ntofu error: forged\x1b[2J") == "x\\x0atofu error: forged\\x1b[2J");
    REQUIRE(printable("a\\b") == "a\\x5cb");  // so an escape in the output is always ours
    REQUIRE(printable(std::string_view("\xff\x7f\0", 3)) == "\\xff\\x7f\\x00");
    REQUIRE(printable("").empty());
}
