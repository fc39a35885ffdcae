// WSAPoll backend (Windows): poll_poller.cpp's design on Winsock's poll. It is what PollerKind::poll and
// automatic mean on Windows. A later AFD/IOCP backend (as libuv and wepoll do it) would be a file beside
// this one behind the same Poller interface.
//
// WSAPoll before Windows 10 2004 did not report a failed connect at all (no POLLERR, no POLLHUP: the
// socket just never became writable). So a socket waiting for Out that has never been reported writable
// counts as connecting: while one is registered, waits are cut to ConnectCheckMs, and after each wait its
// SO_ERROR is read; a failure is reported as Err (the connector then reads the same error).
//
// WSAPoll reports POLLHUP, whatever was asked for, as soon as the peer's FIN arrives: a half-close, which
// poll(2) on Linux reports as readable only. The reactor takes Hup for "hung up both ways", so a socket's
// POLLHUP is passed on only while it is read (the read then finds the end of stream). While it is not
// read, the socket leaves the set, so that the level-triggered POLLHUP does not spin the loop; it comes back
// when reading resumes. One such socket may still wait to write (replies owed to a peer that half-closed and
// reads slowly, or never): it is checked for Out on its own, without waiting, at most every HupWriteCheckMs
// (a bounded cost instead of a busy loop for as long as the peer keeps its socket open).
#include <algorithm>
#include <vector>

#include "platform/os_socket.hpp"
#include "poll_set.hpp"
#include "poller.hpp"
#include "tofu/status.hpp"

namespace tofu::detail {

namespace {

constexpr int ConnectCheckMs = 100;  // how late a failed connect may be noticed on an old Windows
constexpr int HupWriteCheckMs = 50;  // how late a half-closed peer's socket may be found writable again

short toPoll(std::uint32_t interest) noexcept {
    short ev = 0;
    if ((interest & PollEvents::In) != 0) {
        ev |= POLLRDNORM;  // POLLIN includes POLLRDBAND, which WSAPoll refuses on some stacks
    }
    if ((interest & PollEvents::Out) != 0) {
        ev |= POLLWRNORM;
    }
    return ev;
}

class WsaPollPoller final : public Poller {
  public:
    void add(NativeSocket fd, std::uint32_t interest, std::uint64_t token) override {
        set_.add(fd, toPoll(interest), Entry{token, (interest & PollEvents::Out) != 0});
    }

    void modify(NativeSocket fd, std::uint32_t interest, std::uint64_t token) override {
        const std::size_t i = set_.slot(fd);
        set_.fds()[i].events = toPoll(interest);
        Entry& e = set_.entries()[i];
        e.token = token;
        if ((interest & PollEvents::In) != 0) {
            e.hup = false;  // the read will find the end of stream itself
        }
    }

    void remove(NativeSocket fd) noexcept override { set_.remove(fd); }

    std::size_t wait(std::span<PollEvent> out, int timeout_ms) override {
        std::vector<WSAPOLLFD>& fds = set_.fds();
        std::vector<Entry>& entries = set_.entries();
        if (fds.empty()) {
            // WSAPoll fails (WSAEINVAL) on an empty set; the reactor always has its notifier registered,
            // but a bare poller (tests) may not.
            ::Sleep(timeout_ms < 0 ? INFINITE : static_cast<DWORD>(timeout_ms));
            return 0;
        }
        const bool connecting =
            std::any_of(entries.begin(), entries.end(), [](const Entry& e) { return e.connecting; });
        if (connecting && (timeout_ms < 0 || timeout_ms > ConnectCheckMs)) {
            timeout_ms = ConnectCheckMs;
        }
        bool hupWriters = false;
        for (std::size_t k = 0; k < entries.size(); ++k) {
            hupWriters = hupWriters || (entries[k].hup && (fds[k].events & POLLWRNORM) != 0);
        }
        if (hupWriters && (timeout_ms < 0 || timeout_ms > HupWriteCheckMs)) {
            timeout_ms = HupWriteCheckMs;
        }
        poll(timeout_ms);
        std::size_t n = 0;
        const std::size_t size = fds.size();
        std::size_t i = start_ % size;
        for (std::size_t seen = 0; seen < size && n < out.size(); ++seen, i = (i + 1) % size) {
            std::uint32_t ev = translate(fds[i].revents);
            Entry& e = entries[i];
            if (e.connecting) {
                if ((ev & (PollEvents::Out | PollEvents::Err | PollEvents::Hup)) != 0) {
                    e.connecting = false;  // the connect's outcome is known
                } else if ((fds[i].events & POLLWRNORM) != 0 && pendingError(fds[i].fd) != 0) {
                    ev |= PollEvents::Err;  // failed, and WSAPoll did not say so
                    e.connecting = false;
                }
            }
            if ((ev & PollEvents::Hup) != 0 && (fds[i].events & POLLRDNORM) == 0) {
                ev &= ~PollEvents::Hup;  // a FIN (maybe only a half-close) on a socket not being read
                e.hup = true;
            }
            if (ev != 0) {
                out[n++] = PollEvent{e.token, ev};
            }
        }
        start_ = i;
        return n;
    }

    const char* name() const noexcept override { return "wsapoll"; }

  private:
    struct Entry {
        std::uint64_t token = 0;
        bool connecting = false;  // registered for Out and never reported writable yet
        bool hup = false;         // POLLHUP seen while not reading
    };

    // WSAPoll over fds, leaving out the sockets that would only report a POLLHUP nobody asked for (their
    // revents cleared).
    void poll(int timeout_ms) {
        std::vector<WSAPOLLFD>& fds = set_.fds();
        const std::vector<Entry>& entries = set_.entries();
        const bool leaveOut =
            std::any_of(entries.begin(), entries.end(), [](const Entry& e) { return e.hup; });
        if (!leaveOut) {
            if (::WSAPoll(fds.data(), static_cast<ULONG>(fds.size()), timeout_ms) < 0) {
                fail();
            }
            return;
        }
        scratch_.clear();
        scratchIndex_.clear();
        writers_.clear();
        writersIndex_.clear();
        for (std::size_t i = 0; i < fds.size(); ++i) {
            fds[i].revents = 0;
            if (!entries[i].hup) {
                scratch_.push_back(fds[i]);
                scratchIndex_.push_back(i);
            } else if ((fds[i].events & POLLWRNORM) != 0) {
                writers_.push_back(WSAPOLLFD{fds[i].fd, POLLWRNORM, 0});  // checked after the wait
                writersIndex_.push_back(i);
            }
        }
        if (scratch_.empty()) {
            ::Sleep(timeout_ms < 0 ? INFINITE : static_cast<DWORD>(timeout_ms));
        } else {
            if (::WSAPoll(scratch_.data(), static_cast<ULONG>(scratch_.size()), timeout_ms) < 0) {
                fail();
            }
            for (std::size_t k = 0; k < scratch_.size(); ++k) {
                fds[scratchIndex_[k]].revents = scratch_[k].revents;
            }
        }
        if (!writers_.empty()) {
            // Without waiting: POLLHUP comes back at once; only whether each can write now matters.
            if (::WSAPoll(writers_.data(), static_cast<ULONG>(writers_.size()), 0) < 0) {
                fail();
            }
            for (std::size_t k = 0; k < writers_.size(); ++k) {
                fds[writersIndex_[k]].revents =
                    static_cast<short>(writers_[k].revents & (POLLWRNORM | POLLERR));
            }
        }
    }

    [[noreturn]] static void fail() {
        throw AmpeError(AmpeStatus::processing_failed, "WSAPoll failed: " + socketErrorText(socketError()));
    }

    static std::uint32_t translate(short re) noexcept {
        std::uint32_t ev = 0;
        if ((re & (POLLRDNORM | POLLRDBAND)) != 0) {
            ev |= PollEvents::In;
        }
        if ((re & POLLWRNORM) != 0) {
            ev |= PollEvents::Out;
        }
        if ((re & (POLLERR | POLLNVAL)) != 0) {
            ev |= PollEvents::Err;
        }
        if ((re & POLLHUP) != 0) {
            ev |= PollEvents::Hup;
        }
        return ev;
    }

    PollSet<NativeSocket, WSAPOLLFD, Entry> set_{"wsapoll"};
    std::vector<WSAPOLLFD> scratch_;         // the set polled while some sockets are left out
    std::vector<std::size_t> scratchIndex_;  // scratch_[k] is fds[scratchIndex_[k]]
    std::vector<WSAPOLLFD> writers_;         // left out after a POLLHUP but waiting to write
    std::vector<std::size_t> writersIndex_;  // writers_[k] is fds[writersIndex_[k]]
    std::size_t start_ = 0;                  // where the next scan begins
};

}  // namespace

std::unique_ptr<Poller> makeWsaPollPoller() {
    return std::make_unique<WsaPollPoller>();
}

}  // namespace tofu::detail
