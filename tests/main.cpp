// The main() of the Catch2 test binaries (tofu_tests, tofu_unit_tests, tofu_hardening). Every run fails a
// test case, or a section, that ran no assertion (--warn NoAssertions) and a run whose test specs match no
// test case (--warn NoTests): a ctest entry must not pass without testing anything. Catch2 2.x takes only
// one --warn on the command line, so both are turned on here rather than through catch_discover_tests'
// EXTRA_ARGS.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

int main(int argc, char* argv[]) {
    Catch::Session session;
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
