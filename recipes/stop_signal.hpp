// Waiting for the user to stop a program: SIGINT or SIGTERM on POSIX; Ctrl-C, Ctrl-Break or the console
// closing on Windows (SetConsoleCtrlHandler: Windows has no signals to wait for). On POSIX it can also take
// SIGUSR1, a request for information (tofu-echo prints its counters), meanwhile.
#pragma once

#if defined(_WIN32)
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>

#include <atomic>
#include <csignal>
#include <semaphore>
#else
#include <pthread.h>
#include <signal.h>
#endif

namespace recipes {

class StopSignal {
  public:
    /// POSIX: blocks SIGINT and SIGTERM (and SIGUSR1 when info) in the calling thread. Make it before any
    /// thread starts, so that every thread inherits the mask and none is interrupted. Windows: installs the
    /// console handler (info has no meaning there).
    explicit StopSignal(bool info = false) noexcept {
#if defined(_WIN32)
        (void)info;
        ::SetConsoleCtrlHandler(&StopSignal::onConsoleEvent, TRUE);
#else
        sigemptyset(&set_);
        sigaddset(&set_, SIGINT);
        sigaddset(&set_, SIGTERM);
        if (info) {
            sigaddset(&set_, SIGUSR1);
        }
        pthread_sigmask(SIG_BLOCK, &set_, nullptr);
#endif
    }

    /// Blocks until the user stops the program; the signal's number (Windows: SIGINT for Ctrl-C,
    /// SIGTERM for Ctrl-Break or the console closing).
    int wait() noexcept {
        return wait([] {});
    }
    /// The same, calling onInfo() for every SIGUSR1 that comes meanwhile (POSIX, when made with info).
    template <class OnInfo>
    int wait(OnInfo&& onInfo) {
#if defined(_WIN32)
        (void)onInfo;
        stopped().acquire();
        return received().load();
#else
        int sig = 0;
        while (sigwait(&set_, &sig) == 0 && sig == SIGUSR1) {
            onInfo();
        }
        return sig;
#endif
    }

  private:
#if defined(_WIN32)
    static std::binary_semaphore& stopped() noexcept {
        static std::binary_semaphore s{0};
        return s;
    }
    static std::atomic<int>& received() noexcept {
        static std::atomic<int> sig{0};
        return sig;
    }
    static BOOL WINAPI onConsoleEvent(DWORD event) noexcept {
        received().store(event == CTRL_C_EVENT ? SIGINT : SIGTERM);
        stopped().release();
        return TRUE;  // handled: the program closes down itself
    }
#else
    sigset_t set_{};
#endif
};

}  // namespace recipes
