// Backend selection: one place decides which poller the reactor uses.
#include "poller.hpp"

#include <cstdlib>
#include <string_view>

#include "tofu/status.hpp"

namespace tofu::detail {

namespace {
PollerKind platformDefault() noexcept {
#if defined(TOFU_DEFAULT_POLLER_epoll)
    return PollerKind::epoll;
#elif defined(TOFU_DEFAULT_POLLER_poll)
    return PollerKind::poll;
#elif defined(TOFU_DEFAULT_POLLER_kqueue)
    return PollerKind::kqueue;
#elif defined(__linux__)
    return PollerKind::epoll;
#elif defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__)
    return PollerKind::kqueue;
#else
    return PollerKind::poll;
#endif
}
}  // namespace

std::unique_ptr<Poller> makePoller(PollerKind kind) {
    if (kind == PollerKind::automatic) {
        kind = platformDefault();
        if (const char* env = std::getenv("TOFU_POLLER")) {
            const std::string_view e(env);
            if (e == "epoll") {
                kind = PollerKind::epoll;
            } else if (e == "poll" || e == "wsapoll") {
                kind = PollerKind::poll;
            } else if (e == "kqueue") {
                kind = PollerKind::kqueue;
            }
        }
    }
    switch (kind) {
        case PollerKind::poll:
#if defined(_WIN32)
            return makeWsaPollPoller();  // Windows' poll()
#else
            return makePollPoller();
#endif
#if defined(__linux__)
        case PollerKind::epoll:
            return makeEpollPoller();
#endif
#if defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__)
        case PollerKind::kqueue:
            return makeKqueuePoller();
#endif
        default:  // a backend not built here (automatic was resolved above)
            break;
    }
    throw AmpeError(AmpeStatus::not_implemented_yet, "poller backend not built on this platform");
}

}  // namespace tofu::detail
