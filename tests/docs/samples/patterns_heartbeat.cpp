// Sample for docs/guide/patterns.md: heartbeats and silent peers (a fragment: compiled, not run).
#include <atomic>
#include <chrono>
#include <tofu/tofu.hpp>
#include <unordered_map>
#include <vector>

namespace samples::heartbeat {

using Clock = std::chrono::steady_clock;

// --8<-- [start:beat]
void sendHeartbeat(tofu::Ampe& ampe, tofu::ChannelGroup& chnls, tofu::ChannelNumber peer) {
    tofu::MessagePtr hb = ampe.get(tofu::AllocationStrategy::poolOnly);
    if (!hb) {
        return;  // no spare message right now: skip this beat rather than grow the pool
    }
    hb->asSignal(peer);  // an empty signal: "still here" (regular, signal, channel peer)
    chnls.enqueueToPeer(hb);
}
// --8<-- [end:beat]

// --8<-- [start:watch]
class PeerWatch {
  public:
    void heard(tofu::ChannelNumber ch) { last_[ch] = Clock::now(); }
    void forget(tofu::ChannelNumber ch) { last_.erase(ch); }

    /// Peers not heard from for longer than `limit`; each is reported once.
    std::vector<tofu::ChannelNumber> silent(Clock::duration limit) {
        std::vector<tofu::ChannelNumber> quiet;
        const Clock::time_point now = Clock::now();
        std::erase_if(last_, [&](const auto& kv) {
            if (now - kv.second <= limit) {
                return false;
            }
            quiet.push_back(kv.first);
            return true;
        });
        return quiet;
    }

    [[nodiscard]] std::vector<tofu::ChannelNumber> peers() const {
        std::vector<tofu::ChannelNumber> all;
        for (const auto& kv : last_) {
            all.push_back(kv.first);
        }
        return all;
    }

  private:
    std::unordered_map<tofu::ChannelNumber, Clock::time_point> last_;
};
// --8<-- [end:watch]

// --8<-- [start:loop]
void closeNow(tofu::Ampe& ampe, tofu::ChannelGroup& chnls, tofu::ChannelNumber ch) {
    chnls.enqueueToPeer(ampe.byeSignal(ch));  // a ByeSignal with oob: close at once, send nothing
}

void runWithHeartbeats(tofu::Ampe& ampe, tofu::ChannelGroup& chnls, PeerWatch& watch,
                       const std::atomic<bool>& running) {
    constexpr Clock::duration beat = std::chrono::seconds(10);
    Clock::time_point nextBeat = Clock::now() + beat;
    while (running) {
        tofu::MessagePtr msg = chnls.waitReceive(std::chrono::seconds(1));
        if (msg && !msg->fromEngine()) {
            watch.heard(msg->channel());  // any message proves the peer is alive
            // ... handle msg ...
        } else if (msg && msg->isCloseNotice()) {  // not a returned heartbeat: those look alike
            watch.forget(msg->channel());
        }
        try {
            if (Clock::now() >= nextBeat) {
                for (tofu::ChannelNumber ch : watch.peers()) {
                    sendHeartbeat(ampe, chnls, ch);
                }
                nextBeat += beat;
            }
            for (tofu::ChannelNumber ch : watch.silent(6 * beat)) {
                closeNow(ampe, chnls, ch);  // six beats missed: give up on this peer
            }
        } catch (const tofu::AmpeError&) {
            // the channel closed meanwhile; its close notice is on its way
        }
    }
}
// --8<-- [end:loop]

}  // namespace samples::heartbeat
