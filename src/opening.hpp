// How a Welcome or Hello that cannot open its channel is answered: the request comes back as a response
// with the failure's status and an ~error header, followed by a channel_closed notice.
#pragma once

#include <string>
#include <string_view>

#include "tofu/message.hpp"
#include "tofu/status.hpp"

namespace tofu::detail {

class Loop;
class MchnGroup;

/// Appends the ~error header (what failed, the address, the OS's words) to a returned Welcome/Hello,
/// replacing an earlier one. Nothing when why is empty.
void explain(Message& m, std::string_view why) noexcept;

/// Why m's address header does not give an address, with its value.
[[nodiscard]] std::string unusableAddress(const Message& m, std::string_view header,
                                          std::string_view tcpForm);

/// m (a Welcome/Hello whose channel never opened) comes back with status st; its number is freed.
void failOpening(Loop& loop, MchnGroup& g, Message* m, AmpeStatus st, std::string_view why = {});

}  // namespace tofu::detail
