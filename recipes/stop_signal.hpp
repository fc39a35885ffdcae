// Waiting for the user to stop a program: SIGINT or SIGTERM on POSIX; Ctrl-C, Ctrl-Break or the console
// closing on Windows (SetConsoleCtrlHandler: Windows has no signals to wait for).
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
    /// POSIX: blocks SIGINT and SIGTERM in the calling thread. Make it before any thread starts, so that
    /// every thread inherits the mask and none is interrupted. Windows: installs the console handler.
    StopSignal() noexcept {
#if defined(_WIN32)
        ::SetConsoleCtrlHandler(&StopSignal::onConsoleEvent, TRUE);
#else
        sigemptyset(&set_);
        sigaddset(&set_, SIGINT);
        sigaddset(&set_, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &set_, nullptr);
#endif
    }

    /// Blocks until the user stops the program; the signal's number (Windows: SIGINT for Ctrl-C,
    /// SIGTERM for Ctrl-Break or the console closing).
    int wait() noexcept {
#if defined(_WIN32)
        stopped().acquire();
        return received().load();
#else
        int sig = 0;
        sigwait(&set_, &sig);
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
