// Services, EchoService, EchoClient and EchoClientServer — see services.hpp.
#include "services.hpp"

#include <string>
#include <thread>

#include "multihomed.hpp"

namespace recipes {

using namespace tofu;

// ---------------------------------------------------------------------------------------------------
// EchoService

void EchoService::start(Ampe& ampe, ChannelGroup& sendTo) {
    ampe_ = &ampe;
    sendTo_ = &sendTo;
    cancel_ = false;
}

void EchoService::stop() {
    cancel_ = true;
    ampe_ = nullptr;
    sendTo_ = nullptr;
}

bool EchoService::onMessage(MessagePtr& msg) {
    if (cancel_ || ampe_ == nullptr || sendTo_ == nullptr) {
        return false;  // cancelled, or called before start / after stop
    }
    if (!msg) {
        return true;
    }
    if (rest_ == 0) {
        return false;  // the budget is spent
    }

    // The engine's news: only pool_empty asks for something. Statuses of application messages belong to
    // the application; keep the two apart in your own services.
    if (msg->fromEngine()) {
        if (msg->status() == AmpeStatus::pool_empty) {
            MessagePtr fresh = Message::create(ampe_->getAllocator());  // grow the pool by one
            ampe_->put(fresh);
        }
        return true;  // channel_closed and the like: nothing to answer
    }

    switch (msg->role()) {
        case MessageRole::request:
            msg->asResponse();  // same message: same id, headers and body
            break;
        case MessageRole::signal:
            if (msg->type() == MessageType::bye) {
                return true;  // a ByeSignal ends its channel on both sides: there is nobody to echo it to
            }
            break;  // back as it came
        default:
            // A response: nothing to answer. The original stopped the whole server here, so one peer
            // could stop it for everybody.
            return true;
    }
    if (msg->type() == MessageType::regular) {  // Hello and Bye cost nothing
        --rest_;
        ++echoed_;
    }
    try {
        sendTo_->enqueueToPeer(msg);
    } catch (const AmpeError&) {
        // The channel closed meanwhile; msg is still ours and returns to the pool. (The original stopped
        // serving everybody.)
    }
    return true;
}

// ---------------------------------------------------------------------------------------------------
// EchoClient

EchoClient::EchoClient(Ampe& ampe, const Configurator& cfg, std::uint16_t echoes)
    : ampe_(ampe), chnls_(ampe), echoes_(echoes == 0 ? DefaultEchoes : echoes) {
    MessagePtr hello = ampe_.get(AllocationStrategy::always);
    cfg.prepareRequest(*hello);
    channel_ = chnls_->enqueueToPeer(hello).channel_number;

    MessagePtr resp = next();
    if (resp->fromEngine()) {
        // The Hello came back from the engine: connect failed (a channel_closed signal follows; the group's
        // destruction discards it).
        throw AmpeError(resp->status(), "echo client: connect failed");
    }
    if (resp->type() != MessageType::hello || resp->role() != MessageRole::response) {
        throw AmpeError(AmpeStatus::invalid_message, "echo client: HelloResponse expected");
    }
}

MessagePtr EchoClient::next() {
    for (;;) {
        MessagePtr msg = chnls_->waitReceive(30 * waitReceive_SEC_TIMEOUT);
        if (!msg) {
            throw AmpeError(AmpeStatus::communication_failed, "echo client: nothing received in 30 s");
        }
        if (msg->fromEngine() && msg->status() == AmpeStatus::pool_empty) {
            continue;  // returning msg to the pool is the answer
        }
        return msg;
    }
}

AmpeStatus EchoClient::run() {
    try {
        for (std::uint16_t id = 1; id <= echoes_ && id != 0; ++id) {
            const std::string body = "echo " + std::to_string(id);
            MessagePtr req = ampe_.request(channel_, body);  // on the channel the Hello opened
            req->bhdr.message_id = id;                       // our own ids: 1..N
            chnls_->enqueueToPeer(req);

            MessagePtr resp = next();
            if (resp->fromEngine()) {
                status_ = resp->status();  // the channel closed under us
                return status_;
            }
            if (resp->role() != MessageRole::response || resp->id() != id || resp->body.view() != body) {
                status_ = AmpeStatus::invalid_message;
                return status_;
            }
            ++count_;
        }

        // Close at once: nothing goes on the wire; the ByeSignal comes back from the engine with
        // channel_closed, then the channel_closed signal.
        chnls_->enqueueToPeer(ampe_.byeSignal(channel_));  // ByeSignal, oob
        for (;;) {
            MessagePtr msg = next();
            if (msg->isCloseNotice() && msg->channel() == channel_) {
                status_ = AmpeStatus::success;
                return status_;
            }
        }
    } catch (const AmpeError& e) {
        status_ = e.status();
        return status_;
    }
}

// ---------------------------------------------------------------------------------------------------
// EchoClientServer

EchoClientServer::EchoClientServer(const std::vector<Configurator>& servers) {
    Options options;
    options.initialPoolMsgs = 16;
    options.maxPoolMsgs = 64;
    engine_ = Reactor::Create(options);
    mh_ = MultiHomed::run(engine_->ampe(), servers, echo_);
}

EchoClientServer::~EchoClientServer() {
    echo_.setCancel();
    mh_.reset();  // stops the server thread and closes every channel, then the engine stops
}

AmpeStatus EchoClientServer::run(const std::vector<Configurator>& clients, int clientsPerAddress,
                                 std::uint16_t echoes) {
    if (clients.empty() || clientsPerAddress <= 0) {
        return AmpeStatus::wrong_configuration;
    }
    echoes_ = 0;
    clients_ = 0;
    AmpeStatus result = AmpeStatus::success;

    std::vector<std::unique_ptr<EchoClient>> started;
    std::vector<std::thread> threads;
    for (int i = 0; i < clientsPerAddress; ++i) {
        for (const Configurator& cfg : clients) {
            try {
                auto client = std::make_unique<EchoClient>(engine_->ampe(), cfg, echoes);
                EchoClient* c = client.get();
                started.push_back(std::move(client));
                threads.emplace_back([c] { (void)c->run(); });
            } catch (const AmpeError& e) {
                result = e.status();  // could not connect: keep going with the others
            }
        }
    }
    for (std::thread& t : threads) {
        t.join();
    }

    clients_ = started.size();
    for (const std::unique_ptr<EchoClient>& c : started) {
        echoes_ += c->count();
        if (c->status() != AmpeStatus::success) {
            result = c->status();
        } else if (c->count() != c->echoes()) {
            result = AmpeStatus::processing_failed;
        }
    }
    return result;
}

}  // namespace recipes
