// tofu cookbook: small recipes, each a complete use of the API to read top to bottom.
// A recipe returns the status it observed, or throws tofu::AmpeError where the original returns an error.
// Only public tofu headers are used: copy any recipe out as the start of your own program.
#pragma once

#include <tofu/tofu.hpp>

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

// Reconnect through a small connector object fed with every received message (never compiled upstream).
tofu::AmpeStatus handleReConnnectOfUdsClientServerSTViaConnector();
tofu::AmpeStatus handleReConnnectOfTcpClientServerSTViaConnector();
tofu::AmpeStatus handleReConnectViaConnector(const tofu::Configurator& srvCfg,
                                             const tofu::Configurator& cltCfg);

}  // namespace cookbook
