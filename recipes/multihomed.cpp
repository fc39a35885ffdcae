// MultiHomed — see multihomed.hpp.
#include "multihomed.hpp"

#include <algorithm>

namespace recipes {

using namespace tofu;

std::unique_ptr<MultiHomed> MultiHomed::run(Ampe& ampe, const std::vector<Configurator>& addresses,
                                            Services& services) {
    return std::make_unique<MultiHomed>(ampe, addresses, services);
}

MultiHomed::MultiHomed(Ampe& ampe, const std::vector<Configurator>& addresses, Services& services)
    : ampe_(ampe), services_(services), chnls_(ampe) {
    if (addresses.empty()) {
        throw AmpeError(AmpeStatus::wrong_configuration, "MultiHomed: no address to listen on");
    }
    for (const Configurator& cfg : addresses) {
        startListener(cfg);  // on failure the exception destroys the group: listeners started so far close
    }
    services_.start(ampe_, *chnls_);
    thread_ = std::thread([this] { mainLoop(); });
}

MultiHomed::~MultiHomed() {
    stop();
}

void MultiHomed::startListener(const Configurator& cfg) {
    MessagePtr welcome = ampe_.get(AllocationStrategy::always);
    cfg.prepareRequest(*welcome);
    const ChannelNumber listener = chnls_->enqueueToPeer(welcome).channel_number;

    for (;;) {
        MessagePtr msg = chnls_->waitReceive(10 * waitReceive_SEC_TIMEOUT);
        if (!msg) {
            throw AmpeError(AmpeStatus::listen_failed, "MultiHomed: no WelcomeResponse in 10 s");
        }
        if (msg->channel() != listener) {
            // A client of a listener started before this one, or engine news: serve it later, in order.
            early_.push_back(std::move(msg));
            continue;
        }
        // The WelcomeResponse: success, or (origin engine) why listening failed.
        raw_to_error(*msg);  // its ~error header says what failed
        listeners_.push_back(listener);
        return;
    }
}

bool MultiHomed::isListener(ChannelNumber ch) const noexcept {
    return std::find(listeners_.begin(), listeners_.end(), ch) != listeners_.end();
}

void MultiHomed::stop() {
    if (thread_.joinable()) {
        chnls_->updateReceiver();  // a receiver_update signal wakes the loop, which then returns
        thread_.join();
        services_.stop();
    }
    chnls_.reset();  // closes listeners and clients, returns their messages to the pool
    early_.clear();
}

void MultiHomed::mainLoop() {
    for (MessagePtr& msg : early_) {
        if (!services_.onMessage(msg)) {
            return;
        }
    }
    early_.clear();

    for (;;) {
        MessagePtr msg;
        try {
            msg = chnls_->waitReceive(waitReceive_INFINITE_TIMEOUT);
        } catch (const AmpeError&) {
            return;  // the engine is shutting down
        }
        if (!msg) {
            continue;
        }
        if (msg->status() == AmpeStatus::receiver_update) {
            return;  // stop() asks (or another thread, with updateReceiver(msg))
        }
        if (isListener(msg->channel())) {
            return;  // news from a listener is bad news (it closed): this server is no longer what it was
        }
        if (!services_.onMessage(msg)) {
            return;
        }
    }  // msg returns to the pool here unless the services took it
}

}  // namespace recipes
