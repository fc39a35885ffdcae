// tofu: helpers for tests, recipes and small programs.
#pragma once

#include "tofu/export.hpp"

#include <cstdint>
#include <string>

namespace tofu {

/// A free TCP port on 127.0.0.1 (the OS picked it), kept for the caller: the port stays bound in this process
/// (a socket with SO_REUSEADDR that never listens) for the next 64 calls, so that no other call, no other
/// process binding port 0 and no outgoing connection takes it in the meantime, and it is not handed out again
/// for the next 1024 calls. A listener with SO_REUSEADDR — every tofu listener — binds it; one without gets
/// EADDRINUSE. Connecting to it before a listener binds it is refused. Throws AmpeError on failure.
[[nodiscard]] TOFU_API std::uint16_t findFreeTcpPort();

/// A fresh path for a Unix socket under $TMPDIR (or /tmp), unique per call, not yet existing,
/// short enough for sun_path. Throws AmpeError on failure.
[[nodiscard]] TOFU_API std::string tempUdsPath();

}  // namespace tofu
