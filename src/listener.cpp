#include "listener.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "connection.hpp"
#include "loop.hpp"
#include "mchn_group.hpp"
#include "opening.hpp"
#include "text.hpp"
#include "tofu/configurator.hpp"

namespace tofu::detail {

namespace {
constexpr int MaxAcceptsPerEvent = 64;
constexpr auto AcceptBackoff = std::chrono::milliseconds(100);
}  // namespace

void Listener::open(Loop& loop, MchnGroup& g, Message* m) {
    const Configurator cfg = Configurator::fromMessage(*m);
    const auto* tcp = cfg.get_if<TCPServerConfigurator>();
    const auto* uds = cfg.get_if<UDSServerConfigurator>();
    if (tcp == nullptr && uds == nullptr) {
        // As the original: headers without a usable listen address are invalid_address (a Welcome without
        // any header was refused by check_and_prepare with wrong_configuration).
        failOpening(loop, g, m, AmpeStatus::invalid_address,
                    unusableAddress(*m, ListenOnHeader, "tcp|IP|PORT"));
        return;
    }
    UniqueFd fd;
    std::string why;
    const AmpeStatus st = createListener(cfg, fd, &why);
    if (st != AmpeStatus::success) {
        failOpening(loop, g, m, st, why);
        return;
    }
    auto& l =
        loop.add<Listener>(g, m->bhdr.channel_number, m->bhdr.message_id, std::move(fd), uds != nullptr);
    EngineCounters::add(loop.counters().listenersOpened);  // before a failure can count its close
    if (!l.watch(PollEvents::In, true)) {
        failOpening(loop, g, m, AmpeStatus::processing_failed);
        return;
    }
    if (tcp != nullptr && tcp->port == 0) {
        // The kernel chose the port: the application learns it from the response.
        setListenOn(*m, fmt::format("{}|{}|{}", TCPProto, tcp->addr, localPort(l.fd())));
    }
    if (uds != nullptr && uds->path.empty()) {
        // The engine chose the path: the WelcomeResponse tells the application which.
        setListenOn(*m, std::string(UDSProto) + '|' + boundUdsPath(l.fd()));
    }
    l.address_ = std::string(m->thdrs.find(ListenOnHeader).value_or(std::string_view()));
    loop.log()(LogLevel::debug, "channel {}: listening on {}", l.number(), l.address_);
    // WelcomeResponse: the same message, answered by the engine on the application's behalf.
    m->bhdr.proto.role = MessageRole::response;
    m->bhdr.status = status_to_raw(AmpeStatus::success);
    loop.delivery().deliver(g, m);
}

Listener::Listener(Loop& loop, MchnGroup& g, ChannelNumber cn, std::uint32_t gen, MessageID openMid,
                   UniqueFd fd, bool uds) noexcept
    : Channel(loop, g, cn, gen, openMid) {
    fd_ = std::move(fd);
    if (uds) {
        udsFile_ = udsFileId(fd_.get());
    }
}

void Listener::onEvent(std::uint32_t /*events*/) {
    for (int i = 0; i < MaxAcceptsPerEvent; ++i) {
        UniqueFd fd;
        switch (acceptOne(fd_.get(), fd, loop_.liveness().optionMs())) {
            case AcceptResult::accepted: {
                const ChannelNumber cn = loop_.registry().allocate(group_);
                if (cn == 0) {
                    loop_.log()(LogLevel::warning,
                                "channel {}: every channel number in use: connection refused", number());
                    continue;  // refuse this connection (fd closes)
                }
                Connection::accepted(loop_, *group_, cn, std::move(fd));
                break;
            }
            case AcceptResult::wouldBlock:
                return;
            case AcceptResult::transient:
                break;
            case AcceptResult::exhausted: {
                // Out of descriptors or memory: stop accepting for a while instead of spinning.
                const int err = errno;
                EngineCounters::add(loop_.counters().acceptBackoffs);
                loop_.log()(LogLevel::warning,
                            "channel {}: accept on {} failed ({}): accepting again in {} ms", number(),
                            address_, std::strerror(err), AcceptBackoff.count());
                state_ = State::backingOff;
                resumeAt_ = Loop::Clock::now() + AcceptBackoff;
                loop_.schedule(*this, resumeAt_);
                updateInterest();
                return;
            }
            case AcceptResult::failed: {
                const int err = errno;
                loop_.log()(LogLevel::error, "channel {}: accept on {} failed ({}): listener closed",
                            number(), address_, std::strerror(err));
                close(AmpeStatus::accept_failed);
                return;
            }
        }
    }
}

void Listener::onTimer() {
    if (state_ != State::backingOff || Loop::Clock::now() < resumeAt_) {
        return;  // an earlier back-off's timer: the later one resumes
    }
    state_ = State::listening;
    loop_.log()(LogLevel::info, "channel {}: accepting on {} again", number(), address_);
    updateInterest();
}

void Listener::describe(ChannelStats& out) const {
    out.state = state_ == State::listening ? "listening" : "backing-off";
    out.address = printable(address_);
}

// A listener sends nothing: a bye closes it (the bye comes back first, then the close notice); anything
// else is refused (the original asserted).
void Listener::submit(Message* m) {
    if (m->bhdr.proto.mtype == MessageType::bye) {
        loop_.delivery().bounce(*group_, m, AmpeStatus::channel_closed);
        close(AmpeStatus::channel_closed);
        return;
    }
    loop_.delivery().bounce(*group_, m, AmpeStatus::not_allowed);
}

std::uint32_t Listener::interest() const noexcept {
    return state_ == State::listening ? PollEvents::In : 0;
}

void Listener::beforeClose() noexcept {
    if (fd_) {
        unlinkUdsListener(fd_.get(), udsFile_);
    }
}

}  // namespace tofu::detail
