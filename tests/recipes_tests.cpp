// The cookbook, driven as the original's reactor_tests drive it: each recipe's outcome is asserted.
#include <catch2/catch.hpp>

#include "cookbook.hpp"

using namespace tofu;

namespace {
AmpeStatus thrown(void (*recipe)()) {
    try {
        recipe();
    } catch (const AmpeError& e) {
        return e.status();
    }
    return AmpeStatus::success;
}
}  // namespace

TEST_CASE("recipes: create and destroy", "[recipes]") {
    REQUIRE_NOTHROW(cookbook::createDestroyMain());
    REQUIRE_NOTHROW(cookbook::createDestroyAmpe());
    REQUIRE_NOTHROW(cookbook::createDestroyChannelGroup());
    REQUIRE_NOTHROW(cookbook::getMsgsFromSmallestPool());
}

TEST_CASE("recipes: send illegal messages", "[recipes]") {
    REQUIRE(thrown(cookbook::sendMessageFromThePool) == AmpeStatus::invalid_message_mode);
    REQUIRE(thrown(cookbook::handleMessageWithWrongChannelNumber) == AmpeStatus::invalid_channel_number);
    REQUIRE(thrown(cookbook::handleHelloWithoutConfiguration) == AmpeStatus::wrong_configuration);
    REQUIRE(thrown(cookbook::handleHelloWithWrongAddress) == AmpeStatus::invalid_address);
    const AmpeStatus nonListening = thrown(cookbook::handleHelloToNonListeningServer);
    REQUIRE((nonListening == AmpeStatus::connect_failed || nonListening == AmpeStatus::peer_disconnected));
    const AmpeStatus wrongWelcome = thrown(cookbook::handleWelcomeWithWrongAddress);
    REQUIRE((wrongWelcome == AmpeStatus::invalid_address || wrongWelcome == AmpeStatus::listen_failed));
}

TEST_CASE("recipes: find free TCP/IP port", "[recipes]") {
    REQUIRE(findFreeTcpPort() > 0);
}

TEST_CASE("recipes: listeners", "[recipes]") {
    REQUIRE(cookbook::handleStartOfTcpServerAkaListener() == AmpeStatus::success);
    REQUIRE(cookbook::handleStartOfUdsServerAkaListener() == AmpeStatus::success);
    REQUIRE(cookbook::handleStartOfTcpListeners() == AmpeStatus::listen_failed);
    REQUIRE(cookbook::handleStartOfUdsListeners() == AmpeStatus::listen_failed);
}

TEST_CASE("recipes: connect_disconnect", "[recipes]") {
    REQUIRE(cookbook::handleConnnectOfTcpClientServer() == AmpeStatus::success);
    REQUIRE(cookbook::handleConnnectOfUdsClientServer() == AmpeStatus::success);
}

TEST_CASE("recipes: update receiver", "[recipes]") {
    REQUIRE(cookbook::handleUpdateReceiver() == AmpeStatus::receiver_update);
}

TEST_CASE("recipes: handle reconnect single threaded", "[recipes][reconnect]") {
    REQUIRE(cookbook::handleReConnnectOfUdsClientServerST() == AmpeStatus::success);
    REQUIRE(cookbook::handleReConnnectOfTcpClientServerST() == AmpeStatus::success);
}

TEST_CASE("recipes: handle reconnect multithreaded", "[recipes][reconnect]") {
    REQUIRE(cookbook::handleReConnnectOfTcpClientServerMT() == AmpeStatus::success);
    REQUIRE(cookbook::handleReConnnectOfUdsClientServerMT() == AmpeStatus::success);
}

TEST_CASE("recipes: loop tests", "[recipes][loop]") {
    for (int i = 0; i < 5; ++i) {
        REQUIRE_NOTHROW(cookbook::createDestroyChannelGroup());
        REQUIRE(cookbook::handleConnnectOfUdsClientServer() == AmpeStatus::success);
        REQUIRE(cookbook::handleReConnnectOfUdsClientServerST() == AmpeStatus::success);
        REQUIRE(cookbook::handleReConnnectOfTcpClientServerMT() == AmpeStatus::success);
    }
}
