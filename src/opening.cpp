#include "opening.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "loop.hpp"
#include "socket.hpp"
#include "tofu/configurator.hpp"

namespace tofu::detail {

void explain(Message& m, std::string_view why) noexcept {
    if (why.empty()) {
        return;
    }
    try {
        (void)removeHeader(m, ErrorHeader);  // a Hello sent again after a failure: the new reason only
        std::string text(why);
        std::replace_if(
            text.begin(), text.end(), [](char c) { return c == '\r' || c == '\n'; }, ' ');
        m.thdrs.append(ErrorHeader, text);
        m.bhdr.thl = static_cast<std::uint16_t>(std::min<std::size_t>(m.thdrs.buffer.size(), 0xFFFF));
    } catch (...) {
        // No memory for the explanation: the status alone still says what failed.
    }
}

std::string unusableAddress(const Message& m, std::string_view header, std::string_view tcpForm) {
    const std::optional<std::string_view> value = m.thdrs.find(header);
    if (!value) {
        return fmt::format("no {} header (expected {}:{} or {}:uds|PATH)", header, header, tcpForm, header);
    }
    return fmt::format(
        "{}:{} is not a usable address (expected {} with PORT 1-65535, or uds|PATH of at most {} bytes)",
        header, *value, tcpForm, MaxUdsPathLen);
}

void failOpening(Loop& loop, MchnGroup& g, Message* m, AmpeStatus st, std::string_view why) {
    const ChannelNumber cn = m->bhdr.channel_number;
    const MessageID mid = m->bhdr.message_id;
    if (m->bhdr.proto.mtype == MessageType::welcome) {
        EngineCounters::add(loop.counters().listenFailures);
        loop.log()(LogLevel::warning, "channel {}: cannot listen: {}{}{}", cn, statusName(st),
                   why.empty() ? "" : ": ", why);
    } else {
        EngineCounters::add(loop.counters().connectFailures);
    }
    loop.registry().remove(cn);
    explain(*m, why);
    m->bhdr.proto.role = MessageRole::response;
    loop.delivery().bounce(g, m, st);
    loop.delivery().signal(g, AmpeStatus::channel_closed, cn, mid);
}

}  // namespace tofu::detail
