// The main() of the Catch2 test binaries (tofu_tests, tofu_unit_tests, tofu_hardening). Every run fails a
// test case, or a section, that ran no assertion (--warn NoAssertions) and a run whose test specs match no
// test case (--warn NoTests): a ctest entry must not pass without testing anything. Catch2 2.x takes only
// one --warn on the command line, so both are turned on here rather than through catch_discover_tests'
// EXTRA_ARGS.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "platform/os_socket.hpp"

#if defined(_WIN32)
#include <shellapi.h>

#include <string>
#include <vector>
#endif

int main(int argc, char* argv[]) {
    // Winsock stays loaded for the tests' own raw sockets (engines load it for theirs); nothing on POSIX.
    const tofu::detail::SocketRuntime sockets;
    Catch::Session session;
#if defined(_WIN32)
    // argv is in the ANSI code page, which mangles test names such as "hostile peers — silent": take the
    // UTF-16 command line and hand Catch UTF-8.
    std::vector<std::string> utf8;
    if (wchar_t** wargv = ::CommandLineToArgvW(::GetCommandLineW(), &argc)) {
        for (int i = 0; i < argc; ++i) {
            const int n = ::WideCharToMultiByte(CP_UTF8, 0, wargv[i], -1, nullptr, 0, nullptr, nullptr);
            std::string s(static_cast<std::size_t>(n > 0 ? n - 1 : 0), '\0');
            ::WideCharToMultiByte(CP_UTF8, 0, wargv[i], -1, s.data(), n, nullptr, nullptr);
            utf8.push_back(std::move(s));
        }
        ::LocalFree(wargv);
    }
    std::vector<char*> args;
    for (std::string& s : utf8) {
        args.push_back(s.data());
    }
    if (!args.empty()) {
        argv = args.data();
    }
#endif
    if (const int rc = session.applyCommandLine(argc, argv); rc != 0) {
        return rc;
    }
    auto& config = session.configData();
    config.warnings = static_cast<Catch::WarnAbout::What>(config.warnings | Catch::WarnAbout::NoAssertions |
                                                          Catch::WarnAbout::NoTests);
    return session.run();
}

// Hidden (never listed, never run by default): tests/check_test_lists.py runs it and expects it to fail,
// which shows that the warnings above are on in this binary.
TEST_CASE("tests: a test case without assertions fails", "[.][selfcheck]") {}
