// tofu cookbook: small recipes, each a complete use of the API to read top to bottom.
// A recipe returns the status it observed, or throws tofu::AmpeError where the original returns an error.
// Only public tofu headers are used: copy any recipe out as the start of your own program.
#pragma once

#include <tofu/tofu.hpp>

#include <cstdint>

namespace cookbook {

// Engine and group life cycle.
void createDestroyMain();
void createDestroyAmpe();
void createDestroyChannelGroup();

// Messages and the pool.
void getMsgsFromSmallestPool();
void sendMessageFromThePool();               // throws AmpeError(invalid_message_mode)
void handleMessageWithWrongChannelNumber();  // throws AmpeError(invalid_channel_number)

// Failed Hello / Welcome.
void handleHelloWithoutConfiguration();  // throws AmpeError(wrong_configuration)
void handleHelloWithWrongAddress();      // throws AmpeError(invalid_address)
void handleHelloToNonListeningServer();  // throws AmpeError(connect_failed or peer_disconnected)
void handleWelcomeWithWrongAddress();    // throws AmpeError(invalid_address or listen_failed)

// Listeners: once, and the same address twice (the second fails with listen_failed).
tofu::AmpeStatus handleStartOfTcpServerAkaListener();
tofu::AmpeStatus handleStartOfUdsServerAkaListener();
tofu::AmpeStatus handleStartOfTcpListeners();
tofu::AmpeStatus handleStartOfUdsListeners();
tofu::AmpeStatus handleStartOfListener(const tofu::Configurator& cfg, bool runTheSame);

// One group as server and client: Welcome, Hello, HelloResponse, then ByeSignal(oob) on both.
tofu::AmpeStatus handleConnnectOfTcpClientServer();
tofu::AmpeStatus handleConnnectOfUdsClientServer();
tofu::AmpeStatus handleConnect(const tofu::Configurator& srvCfg, const tofu::Configurator& cltCfg);

// updateReceiver with and without a message.
tofu::AmpeStatus handleUpdateReceiver();

// Reconnect: the client retries Hello until the server listens, talks, and says bye.
tofu::AmpeStatus handleReConnnectOfTcpClientServerST();
tofu::AmpeStatus handleReConnnectOfUdsClientServerST();
tofu::AmpeStatus handleReConnectST(const tofu::Configurator& srvCfg, const tofu::Configurator& cltCfg);
tofu::AmpeStatus handleReConnnectOfTcpClientServerMT();
tofu::AmpeStatus handleReConnnectOfUdsClientServerMT();
tofu::AmpeStatus handleReConnectMT(const tofu::Configurator& srvCfg, const tofu::Configurator& cltCfg);

// A listener in its own group that answers requests with responses (the request message, role flipped):
// the server side of the reconnect recipes.
class TofuEchoServer {
  public:
    /// Listens on cfg; throws AmpeError with the engine's status when it cannot.
    TofuEchoServer(tofu::Ampe& ampe, const tofu::Configurator& cfg);

    /// Waits up to timeout for a HelloRequest and answers it; true once a client is connected.
    bool waitConnect(std::uint64_t timeout);
    /// Waits up to timeout for a ByeRequest and answers it (true at once when nobody connected).
    bool recvByeRequest_sendByeResponse(std::uint64_t timeout);
    /// Waits up to timeout for a request of type mtype and answers it; false on timeout.
    /// Engine messages are handled on the way: pool_empty grows the pool, channel_closed is dropped.
    bool waitRequestSendResponse(tofu::MessageType mtype, std::uint64_t timeout);

    [[nodiscard]] tofu::ChannelNumber listener() const noexcept { return listener_; }

  private:
    tofu::Ampe& ampe_;
    tofu::DestroyChannels chnls_;
    tofu::ChannelNumber listener_ = 0;
    bool connected_ = false;
};

// Reconnect through a small connector object fed with every received message (never compiled upstream).
tofu::AmpeStatus handleReConnnectOfUdsClientServerSTViaConnector();
tofu::AmpeStatus handleReConnnectOfTcpClientServerSTViaConnector();
tofu::AmpeStatus handleReConnectViaConnector(const tofu::Configurator& srvCfg,
                                             const tofu::Configurator& cltCfg);

// The echo client/server: a MultiHomed EchoService on TCP and UDS, clientsPerAddress EchoClients per
// address, each on its own thread doing `echoes` round trips (services.hpp). success when all completed.
tofu::AmpeStatus handleEchoClientServer(int clientsPerAddress = 99, std::uint16_t echoes = 100);

}  // namespace cookbook
