#include "multihomed.hpp"

#include <algorithm>

namespace recipes {

using namespace tofu;

MultiHomed::MultiHomed(Ampe& ampe, const std::vector<Configurator>& addresses, Services& services)
    : ampe_(ampe), services_(services), chnls_(ampe.create()) {
    try {
        for (const Configurator& cfg : addresses) {
            MessagePtr welcome = ampe_.get(AllocationStrategy::always);
            cfg.prepareRequest(*welcome);
            chnls_->enqueueToPeer(welcome);
            MessagePtr resp = chnls_->waitReceive(10 * waitReceive_SEC_TIMEOUT);
            if (!resp) {
                throw AmpeError(AmpeStatus::listen_failed, "no WelcomeResponse");
            }
            status_to_error(raw_to_status(resp->bhdr.status));
            listeners_.push_back(resp->bhdr.channel_number);
        }
        services_.start(ampe_, *chnls_);
    } catch (...) {
        ampe_.destroy(chnls_);
        throw;
    }
    thread_ = std::thread([this] { mainLoop(); });
}

MultiHomed::~MultiHomed() {
    stop();
    ampe_.destroy(chnls_);
}

void MultiHomed::stop() {
    if (thread_.joinable()) {
        chnls_->updateReceiver();  // a receiver_update wakes the loop, which then ends
        thread_.join();
        services_.stop();
    }
}

void MultiHomed::mainLoop() {
    for (;;) {
        MessagePtr msg;
        try {
            msg = chnls_->waitReceive(waitReceive_INFINITE_TIMEOUT);
        } catch (const AmpeError&) {
            return;  // shutdown
        }
        if (!msg) {
            continue;
        }
        const AmpeStatus st = raw_to_status(msg->bhdr.status);
        if (st == AmpeStatus::receiver_update) {
            return;  // stop() asked
        }
        const bool fromListener =
            std::find(listeners_.begin(), listeners_.end(), msg->bhdr.channel_number) != listeners_.end();
        if (fromListener && msg->bhdr.proto.origin == OriginFlag::engine &&
            st == AmpeStatus::channel_closed) {
            return;  // a listener died: nothing more to serve on it
        }
        if (!services_.onMessage(msg)) {
            return;
        }
    }
}

}  // namespace recipes
