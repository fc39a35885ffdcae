// The cookbook, driven as the original's reactor_tests drive it: each recipe's outcome is asserted.
#include <catch2/catch.hpp>

#include "cookbook.hpp"
#include "multihomed.hpp"
#include "services.hpp"

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

TEST_CASE("recipes: reconnect via a connector", "[recipes][reconnect]") {
    REQUIRE(cookbook::handleReConnnectOfUdsClientServerSTViaConnector() == AmpeStatus::success);
    REQUIRE(cookbook::handleReConnnectOfTcpClientServerSTViaConnector() == AmpeStatus::success);
}

TEST_CASE("recipes: loop tests", "[recipes][loop]") {
    for (int i = 0; i < 5; ++i) {
        REQUIRE_NOTHROW(cookbook::createDestroyChannelGroup());
        REQUIRE(cookbook::handleConnnectOfUdsClientServer() == AmpeStatus::success);
        REQUIRE(cookbook::handleReConnnectOfUdsClientServerST() == AmpeStatus::success);
        REQUIRE(cookbook::handleReConnnectOfTcpClientServerMT() == AmpeStatus::success);
    }
}

TEST_CASE("recipes: echo client/server over TCP and UDS (MultiHomed, EchoService, EchoClient)",
          "[recipes][echo]") {
    const std::uint16_t port = findFreeTcpPort();
    const std::string path = tempUdsPath();
    const std::vector<Configurator> servers = {TCPServerConfigurator("127.0.0.1", port),
                                               UDSServerConfigurator(path)};
    const std::vector<Configurator> clients = {TCPClientConfigurator("127.0.0.1", port),
                                               UDSClientConfigurator(path)};
    constexpr int ClientsPerAddress = 16;
    constexpr std::uint16_t Echoes = 100;
    std::uint64_t total = 0;
    REQUIRE(recipes::runEchoClientServer(servers, clients, ClientsPerAddress, Echoes, total) ==
            AmpeStatus::success);
    REQUIRE(total == 2u * ClientsPerAddress * Echoes);
}

TEST_CASE("recipes: MultiHomed stops on request and closes its listeners", "[recipes]") {
    auto rtr = Reactor::Create();
    recipes::EchoService echo;
    const std::string path = tempUdsPath();
    {
        recipes::MultiHomed mh(rtr->ampe(), {UDSServerConfigurator(path)}, echo);
        REQUIRE(mh.listeners().size() == 1);
        std::uint64_t done = 0;
        REQUIRE(recipes::runEchoClient(rtr->ampe(), UDSClientConfigurator(path), 10, done) ==
                AmpeStatus::success);
        REQUIRE(done == 10);
        REQUIRE(echo.echoed() == 10);
    }
    // after the MultiHomed is gone nobody listens on the path
    std::uint64_t done = 0;
    REQUIRE(recipes::runEchoClient(rtr->ampe(), UDSClientConfigurator(path), 1, done) ==
            AmpeStatus::uds_path_not_found);
}
