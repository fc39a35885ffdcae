// Exit 0 when this system can make AF_UNIX sockets, else 77 with the reason (Wine 8 cannot): the shell
// drivers of programs that use Unix sockets skip on it (ctest's SKIP_RETURN_CODE).
#include <cstdio>
#include <string>

#include "platform/os_socket.hpp"

int main() {
    std::string why;
    if (tofu::detail::unixSocketsAvailable(&why)) {
        std::puts("AF_UNIX sockets: available");
        return 0;
    }
    std::printf("SKIP: %s\n", why.c_str());
    return 77;
}
