#include "services.hpp"

#include <memory>
#include <thread>

#include "multihomed.hpp"

namespace recipes {

using namespace tofu;

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
    if (cancel_ || ampe_ == nullptr) {
        return false;
    }
    if (!msg) {
        return true;
    }
    if (rest_ == 0) {
        return false;
    }
    if (msg->bhdr.proto.origin == OriginFlag::engine) {
        if (raw_to_status(msg->bhdr.status) == AmpeStatus::pool_empty) {
            MessagePtr fresh = Message::create(ampe_->getAllocator());  // grow the pool by one
            ampe_->put(fresh);
        }
        return true;  // channel_closed and other engine news: nothing to answer
    }
    switch (msg->bhdr.proto.role) {
        case MessageRole::request:
            msg->bhdr.proto.role = MessageRole::response;  // same id, same body
            break;
        case MessageRole::signal:
            break;
        default:
            return true;  // responses are not echoed
    }
    if (msg->bhdr.proto.mtype == MessageType::regular) {
        --rest_;
        ++echoed_;
    }
    try {
        sendTo_->enqueueToPeer(msg);
    } catch (const AmpeError&) {
        // the channel closed meanwhile: the message goes back to the pool with msg
    }
    return true;
}

AmpeStatus runEchoClient(Ampe& ampe, const Configurator& cfg, std::uint16_t echoes,
                         std::uint64_t& completed) {
    completed = 0;
    DestroyChannels chnls(ampe);
    auto next = [&chnls]() -> MessagePtr {
        for (;;) {
            MessagePtr m = chnls->waitReceive(30 * waitReceive_SEC_TIMEOUT);
            if (!m) {
                throw AmpeError(AmpeStatus::communication_failed, "echo client: timeout");
            }
            if (m->bhdr.proto.origin == OriginFlag::engine &&
                raw_to_status(m->bhdr.status) == AmpeStatus::pool_empty) {
                continue;
            }
            return m;
        }
    };
    try {
        MessagePtr hello = ampe.get(AllocationStrategy::always);
        cfg.prepareRequest(*hello);
        const BinaryHeader helloBh = chnls->enqueueToPeer(hello);
        MessagePtr resp = next();
        if (resp->bhdr.proto.origin == OriginFlag::engine) {
            return raw_to_status(resp->bhdr.status);  // connect failed
        }
        const ChannelNumber ch = helloBh.channel_number;
        for (std::uint16_t id = 1; id <= echoes; ++id) {
            MessagePtr req = ampe.get(AllocationStrategy::always);
            req->bhdr.proto.mtype = MessageType::regular;
            req->bhdr.proto.role = MessageRole::request;
            req->bhdr.channel_number = ch;
            req->bhdr.message_id = id;
            const std::string body = "echo " + std::to_string(id);
            req->body.assign(body);
            chnls->enqueueToPeer(req);
            MessagePtr echo = next();
            if (echo->bhdr.proto.origin == OriginFlag::engine) {
                return raw_to_status(echo->bhdr.status);
            }
            if (echo->bhdr.message_id != id || echo->bhdr.proto.role != MessageRole::response ||
                echo->body.view() != body) {
                return AmpeStatus::invalid_message;
            }
            ++completed;
        }
        // Close at once: the ByeSignal comes back from the engine, then channel_closed.
        MessagePtr bye = ampe.get(AllocationStrategy::always);
        bye->bhdr.proto.mtype = MessageType::bye;
        bye->bhdr.proto.role = MessageRole::signal;
        bye->bhdr.proto.oob = Oob::on;
        bye->bhdr.channel_number = ch;
        chnls->enqueueToPeer(bye);
        for (;;) {
            MessagePtr m = next();
            if (m->bhdr.proto.role == MessageRole::signal && m->bhdr.proto.mtype == MessageType::regular &&
                raw_to_status(m->bhdr.status) == AmpeStatus::channel_closed) {
                return AmpeStatus::success;
            }
        }
    } catch (const AmpeError& e) {
        return e.status();
    }
}

AmpeStatus runEchoClientServer(const std::vector<Configurator>& servers,
                               const std::vector<Configurator>& clients, int clientsPerAddress,
                               std::uint16_t echoes, std::uint64_t& totalEchoes) {
    Options options;
    options.initialPoolMsgs = 16;
    options.maxPoolMsgs = 64;
    std::unique_ptr<Reactor> engine = Reactor::Create(options);
    Ampe& ampe = engine->ampe();
    EchoService echo;
    MultiHomed mh(ampe, servers, echo);

    struct Result {
        AmpeStatus status = AmpeStatus::unknown_error;
        std::uint64_t completed = 0;
    };
    std::vector<Result> results(clients.size() * static_cast<std::size_t>(clientsPerAddress));
    std::vector<std::thread> threads;
    std::size_t slot = 0;
    for (int i = 0; i < clientsPerAddress; ++i) {
        for (const Configurator& cfg : clients) {
            Result& r = results[slot++];
            threads.emplace_back(
                [&ampe, &cfg, &r, echoes] { r.status = runEchoClient(ampe, cfg, echoes, r.completed); });
        }
    }
    for (std::thread& t : threads) {
        t.join();
    }
    totalEchoes = 0;
    AmpeStatus st = AmpeStatus::success;
    for (const Result& r : results) {
        totalEchoes += r.completed;
        if (r.status != AmpeStatus::success) {
            st = r.status;
        }
    }
    return st;
}

}  // namespace recipes
