// MultiHomed: one thread, one channel group, one waitReceive loop for several listeners (TCP and UDS)
// and every client that connects to them; each message goes to a Services object.
#pragma once

#include <thread>
#include <vector>

#include "services.hpp"

namespace recipes {

class MultiHomed {
  public:
    /// Starts a listener per address (throws AmpeError when one fails) and the serving thread.
    MultiHomed(tofu::Ampe& ampe, const std::vector<tofu::Configurator>& addresses, Services& services);
    /// Stops the thread (updateReceiver wakes it) and destroys the group, closing every channel.
    ~MultiHomed();
    MultiHomed(const MultiHomed&) = delete;
    MultiHomed& operator=(const MultiHomed&) = delete;

    void stop();
    [[nodiscard]] const std::vector<tofu::ChannelNumber>& listeners() const noexcept { return listeners_; }

  private:
    void mainLoop();

    tofu::Ampe& ampe_;
    Services& services_;
    tofu::ChannelGroup* chnls_;
    std::vector<tofu::ChannelNumber> listeners_;
    std::thread thread_;
};

}  // namespace recipes
