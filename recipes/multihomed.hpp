// MultiHomed: a server on several addresses at once (TCP and UDS listeners) with one thread, one channel
// group and one waitReceive loop for all listeners and every client that connects to them. Each message
// goes to a Services object (services.hpp), which answers through the same group.
// Only tofu's public headers are used: copy multihomed.* and services.* as the start of your own server.
#pragma once

#include <tofu/tofu.hpp>

#include <memory>
#include <thread>
#include <vector>

#include "services.hpp"

namespace recipes {

class MultiHomed {
  public:
    /// Starts a listener on every address, one after the other, then the serving thread, which calls
    /// services.start() and hands every message to services.onMessage(). The thread stops when
    /// onMessage returns false, on any receiver_update (stop() sends one) and on any message of a
    /// listener's channel (it closed). Throws AmpeError when there is no address (wrong_configuration)
    /// or a listener fails (its status, e.g. listen_failed).
    [[nodiscard]] static std::unique_ptr<MultiHomed> run(tofu::Ampe& ampe,
                                                         const std::vector<tofu::Configurator>& addresses,
                                                         Services& services);

    /// The same as run().
    MultiHomed(tofu::Ampe& ampe, const std::vector<tofu::Configurator>& addresses, Services& services);
    /// stop()
    ~MultiHomed();
    MultiHomed(const MultiHomed&) = delete;
    MultiHomed& operator=(const MultiHomed&) = delete;

    /// Wakes the loop (updateReceiver), waits for the thread, calls services.stop() and destroys the
    /// group, which closes every listener (removing UDS files) and client. Idempotent.
    void stop();

    /// The listeners' channel numbers, in the order of the addresses.
    [[nodiscard]] const std::vector<tofu::ChannelNumber>& listeners() const noexcept { return listeners_; }

  private:
    void startListener(const tofu::Configurator& cfg);
    void mainLoop();
    [[nodiscard]] bool isListener(tofu::ChannelNumber ch) const noexcept;

    tofu::Ampe& ampe_;
    Services& services_;
    tofu::DestroyChannels chnls_;
    std::vector<tofu::ChannelNumber> listeners_;
    // Messages of early clients that arrived while later listeners were starting.
    std::vector<tofu::MessagePtr> early_;
    std::thread thread_;
};

}  // namespace recipes
