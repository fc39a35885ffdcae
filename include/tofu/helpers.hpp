// tofu: helpers for tests, recipes and small programs.
#pragma once

#include "tofu/export.hpp"

#include <cstdint>
#include <string>

namespace tofu {

/// A TCP port that was free on 127.0.0.1 a moment ago (the OS picked it). Throws AmpeError on failure.
[[nodiscard]] TOFU_API std::uint16_t findFreeTcpPort();

/// A fresh path for a Unix socket under $TMPDIR (or /tmp), unique per call, not yet existing,
/// short enough for sun_path. Throws AmpeError on failure.
[[nodiscard]] TOFU_API std::string tempUdsPath();

}  // namespace tofu
