// tofu cookbook — see cookbook.hpp for the list. Every recipe owns its engine: Reactor::Create() starts it,
// the unique_ptr's destruction stops it; DestroyChannels destroys a group at the end of a scope.
#include "cookbook.hpp"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "services.hpp"

namespace cookbook {

using namespace tofu;

namespace {

// Throws the status carried by a message the engine sent back.
void throwIfFailed(const Message& msg) {
    status_to_error(msg.status());
}

MessagePtr receive(ChannelGroup& chnls, std::uint64_t timeout = 10 * waitReceive_SEC_TIMEOUT) {
    MessagePtr msg = chnls.waitReceive(timeout);
    if (!msg) {
        throw AmpeError(AmpeStatus::communication_failed, "nothing received in time");
    }
    return msg;
}

// A bye signal with oob: closes the channel at once, without sending anything.
void closeNow(Ampe& ampe, ChannelGroup& chnls, ChannelNumber channel) {
    chnls.enqueueToPeer(ampe.byeSignal(channel));  // ByeSignal, oob
}

}  // namespace

void createDestroyMain() {
    std::unique_ptr<Reactor> rtr = Reactor::Create(DefaultOptions);
}

void createDestroyAmpe() {
    std::unique_ptr<Reactor> rtr = Reactor::Create(DefaultOptions);
    [[maybe_unused]] Ampe& ampe = rtr->ampe();
}

void createDestroyChannelGroup() {
    std::unique_ptr<Reactor> rtr = Reactor::Create(DefaultOptions);
    Ampe& ampe = rtr->ampe();
    ChannelGroup* chnls = ampe.create();
    ampe.destroy(chnls);  // or let a DestroyChannels guard do it
}

void getMsgsFromSmallestPool() {
    Options options;
    options.initialPoolMsgs = 1;
    options.maxPoolMsgs = 1;
    std::unique_ptr<Reactor> rtr = Reactor::Create(options);
    Ampe& ampe = rtr->ampe();
    DestroyChannels chnls(ampe);

    MessagePtr msg1 = ampe.get(AllocationStrategy::always);  // the pool's only message
    if (!msg1) {
        throw AmpeError(AmpeStatus::allocation_failed, "first message should not be empty");
    }
    MessagePtr msg2 = ampe.get(AllocationStrategy::poolOnly);  // the pool is empty now
    if (msg2) {
        throw AmpeError(AmpeStatus::not_allowed, "second message should be empty");
    }
    MessagePtr msg3 = ampe.get(AllocationStrategy::always);  // allocated, as the strategy says
    if (!msg3) {
        throw AmpeError(AmpeStatus::allocation_failed, "third message should not be empty");
    }
}  // the messages go back to the pool (which keeps one) before the engine stops

void sendMessageFromThePool() {
    Options options;
    options.initialPoolMsgs = 1;
    options.maxPoolMsgs = 1;
    std::unique_ptr<Reactor> rtr = Reactor::Create(options);
    Ampe& ampe = rtr->ampe();
    DestroyChannels chnls(ampe);
    MessagePtr msg = ampe.get(AllocationStrategy::always);
    chnls->enqueueToPeer(msg);  // a fresh message has no role: invalid_message_mode, msg stays ours
}

void handleMessageWithWrongChannelNumber() {
    std::unique_ptr<Reactor> rtr = Reactor::Create();
    Ampe& ampe = rtr->ampe();
    DestroyChannels chnls(ampe);
    MessagePtr msg = ampe.get(AllocationStrategy::always);
    msg->bhdr.proto.mtype = MessageType::bye;
    msg->bhdr.proto.role = MessageRole::request;
    chnls->enqueueToPeer(msg);  // channel 0 is only for Welcome/Hello: invalid_channel_number
}

void handleHelloWithoutConfiguration() {
    std::unique_ptr<Reactor> rtr = Reactor::Create();
    Ampe& ampe = rtr->ampe();
    DestroyChannels chnls(ampe);
    MessagePtr msg = ampe.get(AllocationStrategy::always);
    msg->bhdr.proto.mtype = MessageType::hello;  // a Hello needs the server's address
    msg->bhdr.proto.role = MessageRole::request;
    chnls->enqueueToPeer(msg);  // wrong_configuration
}

void handleHelloWithWrongAddress() {
    std::unique_ptr<Reactor> rtr = Reactor::Create();
    Ampe& ampe = rtr->ampe();
    DestroyChannels chnls(ampe);
    MessagePtr msg = ampe.get(AllocationStrategy::always);
    TCPClientConfigurator("tofu.server.invalid", findFreeTcpPort()).prepareRequest(*msg);
    chnls->enqueueToPeer(msg);
    MessagePtr back = receive(*chnls);  // the Hello returns from the engine with the reason
    throwIfFailed(*back);               // invalid_address: the name does not resolve
}

void handleHelloToNonListeningServer() {
    std::unique_ptr<Reactor> rtr = Reactor::Create();
    Ampe& ampe = rtr->ampe();
    DestroyChannels chnls(ampe);
    MessagePtr msg = ampe.get(AllocationStrategy::always);
    TCPClientConfigurator("127.0.0.1", findFreeTcpPort()).prepareRequest(*msg);
    chnls->enqueueToPeer(msg);
    MessagePtr back = receive(*chnls);
    throwIfFailed(*back);  // connect_failed, or peer_disconnected when the refusal is immediate
}

void handleWelcomeWithWrongAddress() {
    std::unique_ptr<Reactor> rtr = Reactor::Create();
    Ampe& ampe = rtr->ampe();
    DestroyChannels chnls(ampe);
    MessagePtr msg = ampe.get(AllocationStrategy::always);
    TCPServerConfigurator("192.0.2.1", findFreeTcpPort()).prepareRequest(*msg);  // not our address
    chnls->enqueueToPeer(msg);
    MessagePtr back = receive(*chnls);
    throwIfFailed(*back);  // invalid_address (EADDRNOTAVAIL)
}

AmpeStatus handleStartOfTcpServerAkaListener() {
    return handleStartOfListener(TCPServerConfigurator("127.0.0.1", findFreeTcpPort()), false);
}

AmpeStatus handleStartOfUdsServerAkaListener() {
    return handleStartOfListener(UDSServerConfigurator(tempUdsPath()), false);
}

AmpeStatus handleStartOfTcpListeners() {
    return handleStartOfListener(TCPServerConfigurator("127.0.0.1", findFreeTcpPort()), true);
}

AmpeStatus handleStartOfUdsListeners() {
    return handleStartOfListener(UDSServerConfigurator(tempUdsPath()), true);
}

AmpeStatus handleStartOfListener(const Configurator& cfg, bool runTheSame) {
    Options options;
    options.initialPoolMsgs = 2;
    options.maxPoolMsgs = 32;
    std::unique_ptr<Reactor> rtr = Reactor::Create(options);
    Ampe& ampe = rtr->ampe();
    DestroyChannels chnls(ampe);

    MessagePtr msg = ampe.get(AllocationStrategy::poolOnly);
    cfg.prepareRequest(*msg);
    const BinaryHeader corrInfo = chnls->enqueueToPeer(msg);
    MessagePtr resp = receive(*chnls);
    if (resp->channel() != corrInfo.channel_number || resp->type() != MessageType::welcome ||
        resp->role() != MessageRole::response) {
        throw AmpeError(AmpeStatus::invalid_message, "not the WelcomeResponse");
    }
    if (runTheSame) {
        // A second engine on the same address while the first still listens: listen_failed.
        return handleStartOfListener(cfg, false);
    }
    return resp->status();
}

AmpeStatus handleConnnectOfTcpClientServer() {
    const std::uint16_t port = findFreeTcpPort();
    return handleConnect(TCPServerConfigurator("127.0.0.1", port), TCPClientConfigurator("127.0.0.1", port));
}

AmpeStatus handleConnnectOfUdsClientServer() {
    const std::string path = tempUdsPath();
    return handleConnect(UDSServerConfigurator(path), UDSClientConfigurator(path));
}

AmpeStatus handleConnect(const Configurator& srvCfg, const Configurator& cltCfg) {
    Options options;
    options.initialPoolMsgs = 24;
    options.maxPoolMsgs = 32;
    std::unique_ptr<Reactor> rtr = Reactor::Create(options);
    Ampe& ampe = rtr->ampe();
    DestroyChannels chnls(ampe);  // one group plays server and client

    // Listen.
    MessagePtr welcome = ampe.get(AllocationStrategy::always);
    srvCfg.prepareRequest(*welcome);
    const BinaryHeader srvCorrInfo = chnls->enqueueToPeer(welcome);
    MessagePtr welcomeResp = receive(*chnls);
    throwIfFailed(*welcomeResp);

    // Connect: the HelloRequest reaches the server side on a third channel, with the client's id.
    MessagePtr hello = ampe.get(AllocationStrategy::always);
    cltCfg.prepareRequest(*hello);
    const BinaryHeader cltCorrInfo = chnls->enqueueToPeer(hello);
    MessagePtr helloOnServer = receive(*chnls);
    throwIfFailed(*helloOnServer);
    const BinaryHeader connected = helloOnServer->bhdr;
    if (connected.channel_number == srvCorrInfo.channel_number ||
        connected.channel_number == cltCorrInfo.channel_number ||
        connected.message_id != cltCorrInfo.message_id) {
        throw AmpeError(AmpeStatus::invalid_channel_number, "unexpected channels or id");
    }
    helloOnServer->asResponse();  // answer with the same message
    chnls->enqueueToPeer(helloOnServer);
    MessagePtr helloResp = receive(*chnls);
    const AmpeStatus st = helloResp->status();
    if (helloResp->channel() != cltCorrInfo.channel_number || helloResp->id() != cltCorrInfo.message_id) {
        throw AmpeError(AmpeStatus::invalid_message_id, "HelloResponse does not match the Hello");
    }

    // Close the listener, then the client, at once (ByeSignal with oob): each comes back channel_closed.
    closeNow(ampe, *chnls, srvCorrInfo.channel_number);
    for (int i = 0; i < 2; ++i) {  // the ByeSignal itself, then the channel_closed signal
        MessagePtr m = receive(*chnls);
        if (m->status() != AmpeStatus::channel_closed) {
            throw AmpeError(m->status(), "listener did not close");
        }
    }
    closeNow(ampe, *chnls, cltCorrInfo.channel_number);
    for (int i = 0; i < 2; ++i) {
        MessagePtr m = receive(*chnls);
        if (m->status() != AmpeStatus::channel_closed) {
            throw AmpeError(m->status(), "client did not close");
        }
    }
    return st;
}

AmpeStatus handleUpdateReceiver() {
    Options options;
    options.initialPoolMsgs = 16;
    options.maxPoolMsgs = 32;
    std::unique_ptr<Reactor> rtr = Reactor::Create(options);
    Ampe& ampe = rtr->ampe();
    DestroyChannels chnls(ampe);

    if (chnls->waitReceive(100)) {  // nothing yet: empty after 100 ns
        throw AmpeError(AmpeStatus::invalid_message, "unexpected message");
    }
    chnls->updateReceiver();  // wake the receiver with a signal from the engine
    MessagePtr attention = receive(*chnls);
    if (!attention->fromEngine() || attention->role() != MessageRole::signal || attention->channel() != 0 ||
        attention->id() != 0) {
        throw AmpeError(AmpeStatus::invalid_message, "not the receiver_update signal");
    }
    // Or hand the receiver a message of our own (another thread could do the same).
    attention->bhdr.proto.role = MessageRole::request;
    attention->bhdr.proto.origin = OriginFlag::application;
    attention->bhdr.status = 0;
    attention->bhdr.message_id = 1;
    chnls->updateReceiver(attention);
    attention = receive(*chnls);
    if (attention->id() != 1 || attention->fromEngine()) {
        throw AmpeError(AmpeStatus::invalid_message, "not our message");
    }
    return attention->status();  // receiver_update
}

TofuEchoServer::TofuEchoServer(Ampe& ampe, const Configurator& cfg) : ampe_(ampe), chnls_(ampe) {
    MessagePtr welcome = ampe_.get(AllocationStrategy::always);
    cfg.prepareRequest(*welcome);
    listener_ = chnls_->enqueueToPeer(welcome).channel_number;
    MessagePtr resp = receive(*chnls_);
    throwIfFailed(*resp);  // the WelcomeResponse: success, or why listening failed
}

bool TofuEchoServer::waitConnect(std::uint64_t timeout) {
    if (!connected_) {
        connected_ = waitRequestSendResponse(MessageType::hello, timeout);
    }
    return connected_;
}

bool TofuEchoServer::recvByeRequest_sendByeResponse(std::uint64_t timeout) {
    if (!connected_) {
        return true;
    }
    return waitRequestSendResponse(MessageType::bye, timeout);
}

bool TofuEchoServer::waitRequestSendResponse(MessageType mtype, std::uint64_t timeout) {
    for (;;) {
        MessagePtr msg = chnls_->waitReceive(timeout);
        if (!msg) {
            return false;
        }
        if (msg->fromEngine()) {
            if (msg->status() == AmpeStatus::pool_empty) {
                for (int i = 0; i < 2; ++i) {  // grow the pool; msg itself goes back too
                    MessagePtr fresh = Message::create(ampe_.getAllocator());
                    ampe_.put(fresh);
                }
            }
            continue;  // pool_empty, or the channel_closed of a client that went away
        }
        if (msg->type() != mtype || msg->role() != MessageRole::request) {
            continue;
        }
        msg->asResponse();  // same message: same channel and id
        chnls_->enqueueToPeer(msg);
        return true;
    }
}

namespace {

// The client side: Hello until connected, then Bye.
class TofuClient {
  public:
    TofuClient(Ampe& ampe, Configurator cfg) : ampe_(ampe), chnls_(ampe), cfg_(std::move(cfg)) {}

    /// Sends one Hello (the answer comes later: awaitHello).
    void sendHello() {
        MessagePtr hello = ampe_.get(AllocationStrategy::always);
        cfg_.prepareRequest(*hello);
        pending_ = chnls_->enqueueToPeer(hello).channel_number;
    }

    /// true when the server answered the Hello; false when the engine returned it (nobody listening).
    bool awaitHello() {
        for (;;) {
            MessagePtr msg = receive(*chnls_);
            if (msg->channel() != pending_) {
                continue;
            }
            if (!msg->fromEngine()) {
                channel_ = pending_;
                return true;  // HelloResponse
            }
            if (msg->type() == MessageType::hello) {
                receive(*chnls_);  // after the failed Hello comes its channel_closed signal
                return false;
            }
        }
    }

    bool connect() {
        sendHello();
        return awaitHello();
    }

    void sendBye() { chnls_->enqueueToPeer(ampe_.byeRequest(channel_)); }

    void awaitByeResponse() {
        for (;;) {
            MessagePtr msg = receive(*chnls_);
            if (msg->type() == MessageType::bye && msg->role() == MessageRole::response) {
                return;  // the channel_closed signal follows
            }
        }
    }

  private:
    Ampe& ampe_;
    DestroyChannels chnls_;
    Configurator cfg_;
    ChannelNumber channel_ = 0;
    ChannelNumber pending_ = 0;
};

}  // namespace

AmpeStatus handleReConnnectOfTcpClientServerST() {
    const std::uint16_t port = findFreeTcpPort();
    return handleReConnectST(TCPServerConfigurator("127.0.0.1", port),
                             TCPClientConfigurator("127.0.0.1", port));
}

AmpeStatus handleReConnnectOfUdsClientServerST() {
    const std::string path = tempUdsPath();
    return handleReConnectST(UDSServerConfigurator(path), UDSClientConfigurator(path));
}

AmpeStatus handleReConnectST(const Configurator& srvCfg, const Configurator& cltCfg) {
    Options options;
    options.initialPoolMsgs = 16;
    options.maxPoolMsgs = 32;
    std::unique_ptr<Reactor> engA = Reactor::Create(options);  // client's engine
    std::unique_ptr<Reactor> engB = Reactor::Create(options);  // server's engine
    TofuClient client(engA->ampe(), cltCfg);

    constexpr int FailedHellos = 1000;  // the server is not there yet
    for (int i = 0; i < FailedHellos; ++i) {
        if (client.connect()) {
            throw AmpeError(AmpeStatus::not_allowed, "connected before the server listened");
        }
    }
    TofuEchoServer server(engB->ampe(), srvCfg);
    // One thread plays both sides: send, let the server answer, then read the answer.
    client.sendHello();
    if (!server.waitConnect(10 * waitReceive_SEC_TIMEOUT) || !client.awaitHello()) {
        return AmpeStatus::connect_failed;
    }
    client.sendBye();
    if (!server.recvByeRequest_sendByeResponse(10 * waitReceive_SEC_TIMEOUT)) {
        return AmpeStatus::communication_failed;
    }
    client.awaitByeResponse();
    return AmpeStatus::success;
}

AmpeStatus handleReConnnectOfTcpClientServerMT() {
    const std::uint16_t port = findFreeTcpPort();
    return handleReConnectMT(TCPServerConfigurator("127.0.0.1", port),
                             TCPClientConfigurator("127.0.0.1", port));
}

AmpeStatus handleReConnnectOfUdsClientServerMT() {
    const std::string path = tempUdsPath();
    return handleReConnectMT(UDSServerConfigurator(path), UDSClientConfigurator(path));
}

AmpeStatus handleReConnectMT(const Configurator& srvCfg, const Configurator& cltCfg) {
    std::unique_ptr<Reactor> engA = Reactor::Create();  // client's engine
    std::unique_ptr<Reactor> engB = Reactor::Create();  // server's engine
    std::atomic<int> failedHellos{0};
    std::atomic<bool> giveUp{false};
    std::atomic<bool> clientDone{false};
    AmpeStatus clientStatus = AmpeStatus::unknown_error;  // read after join

    // The client thread says Hello until the server, started later by this thread, answers; then Bye.
    std::thread clientThread([&] {
        try {
            TofuClient client(engA->ampe(), cltCfg);
            while (!client.connect()) {
                ++failedHellos;
                if (giveUp) {
                    throw AmpeError(AmpeStatus::connect_failed, "server did not start");
                }
            }
            client.sendBye();
            client.awaitByeResponse();
            clientStatus = AmpeStatus::success;
        } catch (const AmpeError& e) {
            clientStatus = e.status();
        }
        clientDone = true;
    });

    AmpeStatus serverStatus = AmpeStatus::success;
    try {
        while (failedHellos < 10 && !clientDone) {  // let some Hellos fail first
            std::this_thread::yield();
        }
        TofuEchoServer server(engB->ampe(), srvCfg);
        if (!server.waitConnect(10 * waitReceive_SEC_TIMEOUT) ||
            !server.recvByeRequest_sendByeResponse(10 * waitReceive_SEC_TIMEOUT)) {
            serverStatus = AmpeStatus::communication_failed;
        }
        clientThread.join();  // before the server's group goes away: the ByeResponse must get out
    } catch (const AmpeError& e) {
        serverStatus = e.status();
    }
    giveUp = true;
    if (clientThread.joinable()) {
        clientThread.join();
    }
    return serverStatus != AmpeStatus::success ? serverStatus : clientStatus;
}

namespace {

// Keeps a client connecting: sends a Hello whenever none is pending and reads the engine's answers.
// Feed it every message the group receives; it says when the connection stands.
// The original's recipe, kept as it is. Its promoted form is tofu::Client (include/tofu/client.hpp): backoff
// with limits, each new channel reported, and request/response calls from any thread, correlated by id.
class ClientConnector {
  public:
    ClientConnector(Ampe& ampe, ChannelGroup& chnls, Configurator cfg)
        : ampe_(ampe), chnls_(chnls), cfg_(std::move(cfg)) {}

    /// Sends a Hello unless one is on its way.
    void kick() {
        if (pending_ == 0 && channel_ == 0) {
            MessagePtr hello = ampe_.get(AllocationStrategy::always);
            cfg_.prepareRequest(*hello);
            pending_ = chnls_.enqueueToPeer(hello).channel_number;
        }
    }

    /// true once connected. Failed Hellos and their channel_closed signals re-arm kick().
    bool tryToConnect(const MessagePtr& received) {
        if (!received || received->channel() != pending_) {
            return channel_ != 0;
        }
        const AmpeStatus st = received->status();
        if (!received->fromEngine() && st == AmpeStatus::success) {
            channel_ = pending_;  // the HelloResponse
            pending_ = 0;
            return true;
        }
        if (received->isCloseNotice()) {
            pending_ = 0;  // the failed Hello's channel is gone: the next kick() tries again
        }
        return false;
    }

    [[nodiscard]] ChannelNumber channel() const noexcept { return channel_; }

  private:
    Ampe& ampe_;
    ChannelGroup& chnls_;
    Configurator cfg_;
    ChannelNumber pending_ = 0;
    ChannelNumber channel_ = 0;
};

}  // namespace

AmpeStatus handleReConnnectOfUdsClientServerSTViaConnector() {
    const std::string path = tempUdsPath();
    return handleReConnectViaConnector(UDSServerConfigurator(path), UDSClientConfigurator(path));
}

AmpeStatus handleReConnnectOfTcpClientServerSTViaConnector() {
    const std::uint16_t port = findFreeTcpPort();
    return handleReConnectViaConnector(TCPServerConfigurator("127.0.0.1", port),
                                       TCPClientConfigurator("127.0.0.1", port));
}

AmpeStatus handleReConnectViaConnector(const Configurator& srvCfg, const Configurator& cltCfg) {
    std::unique_ptr<Reactor> engA = Reactor::Create();  // client
    std::unique_ptr<Reactor> engB = Reactor::Create();  // server, started after some failures
    DestroyChannels chnls(engA->ampe());
    ClientConnector connector(engA->ampe(), *chnls, cltCfg);
    std::unique_ptr<TofuEchoServer> server;

    constexpr int StartServerAfter = 20;  // failed attempts before the server comes up
    int failures = 0;
    while (true) {
        connector.kick();
        if (server) {
            // One thread plays both sides: let the server answer a HelloRequest that may have arrived.
            (void)server->waitConnect(50'000'000);
        }
        MessagePtr msg = chnls->waitReceive(10 * waitReceive_SEC_TIMEOUT);
        if (!msg) {
            return AmpeStatus::communication_failed;
        }
        if (connector.tryToConnect(msg)) {
            break;
        }
        if (msg->type() == MessageType::hello && ++failures == StartServerAfter) {
            server = std::make_unique<TofuEchoServer>(engB->ampe(), srvCfg);
        }
    }
    if (failures < StartServerAfter) {
        return AmpeStatus::not_allowed;  // connected before any server listened?
    }

    // Connected: leave politely — ByeRequest, the server's ByeResponse, then the channel closes.
    chnls->enqueueToPeer(engA->ampe().byeRequest(connector.channel()));
    if (!server->recvByeRequest_sendByeResponse(10 * waitReceive_SEC_TIMEOUT)) {
        return AmpeStatus::communication_failed;
    }
    for (;;) {
        MessagePtr msg = receive(*chnls);
        if (msg->type() == MessageType::bye && msg->role() == MessageRole::response) {
            return msg->status();
        }
    }
}

AmpeStatus handleEchoClientServer(int clientsPerAddress, std::uint16_t echoes) {
    const std::uint16_t port = findFreeTcpPort();
    const std::string path = tempUdsPath();
    const std::vector<Configurator> servers = {TCPServerConfigurator("127.0.0.1", port),
                                               UDSServerConfigurator(path)};
    const std::vector<Configurator> clients = {TCPClientConfigurator("127.0.0.1", port),
                                               UDSClientConfigurator(path)};
    recipes::EchoClientServer echoClSrv(servers);  // one engine; the server runs on its own thread
    return echoClSrv.run(clients, clientsPerAddress, echoes);
}

}  // namespace cookbook
