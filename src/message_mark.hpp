// The engine's marks on a message it hands to the application (Message::isReturned, isCloseNotice).
#pragma once

#include "tofu/message.hpp"

namespace tofu::detail {

struct MessageMark {
    /// The application's own message, given back unsent.
    static void returned(Message& m) noexcept { m.mark_ = Message::Mark::returned; }
    /// A signal the engine made (close notice, pool_empty, receiver_update).
    static void engineSignal(Message& m) noexcept { m.mark_ = Message::Mark::engineSignal; }
    /// An application message again (handed to enqueueToPeer/updateReceiver).
    static void clear(Message& m) noexcept { m.mark_ = Message::Mark::none; }
};

}  // namespace tofu::detail
