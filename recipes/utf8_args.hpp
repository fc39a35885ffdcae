// The command line as UTF-8 on every system. On Windows a program's narrow argv is in the ANSI code page,
// which turns "é→中" into "e??": the programs take the UTF-16 command line and convert it instead (POSIX argv
// is already the bytes the user typed).
#pragma once

#if defined(_WIN32)
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>
// After windows.h.
#include <shellapi.h>
#endif

#include <string>
#include <vector>

namespace recipes {

class Utf8Args {
  public:
    /// Replaces argc/argv with UTF-8 versions on Windows (kept alive by this object); leaves them on POSIX.
    Utf8Args(int& argc, char**& argv) {
#if defined(_WIN32)
        int n = 0;
        wchar_t** wide = ::CommandLineToArgvW(::GetCommandLineW(), &n);
        if (wide == nullptr) {
            return;
        }
        for (int i = 0; i < n; ++i) {
            const int len = ::WideCharToMultiByte(CP_UTF8, 0, wide[i], -1, nullptr, 0, nullptr, nullptr);
            std::string s(static_cast<std::size_t>(len > 0 ? len - 1 : 0), '\0');
            ::WideCharToMultiByte(CP_UTF8, 0, wide[i], -1, s.data(), len, nullptr, nullptr);
            args_.push_back(std::move(s));
        }
        ::LocalFree(wide);
        for (std::string& s : args_) {
            ptrs_.push_back(s.data());
        }
        ptrs_.push_back(nullptr);
        argc = n;
        argv = ptrs_.data();
#else
        (void)argc;
        (void)argv;
#endif
    }
    Utf8Args(const Utf8Args&) = delete;
    Utf8Args& operator=(const Utf8Args&) = delete;

  private:
    std::vector<std::string> args_;
    std::vector<char*> ptrs_;
};

}  // namespace recipes
