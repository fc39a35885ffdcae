// The wire format written by hand for raw-socket test peers (never with tofu's encoder, so the tests check
// the bytes, not tofu against itself). Shared by the interop and hardening tests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tofu::testing::wire {

// proto = type | role<<2 | origin<<4 | more<<5 | oob<<6 | internal<<7
inline constexpr std::uint8_t HelloRequestProto = 2 | (1 << 2);   // 0x06
inline constexpr std::uint8_t HelloResponseProto = 2 | (2 << 2);  // 0x0A
inline constexpr std::uint8_t AppRequestProto = 0 | (1 << 2);     // 0x04
inline constexpr std::uint8_t AppResponseProto = 0 | (2 << 2);    // 0x08
inline constexpr std::uint8_t AppSignalProto = 0 | (3 << 2);      // 0x0C
inline constexpr std::uint8_t ByeRequestProto = 3 | (1 << 2);     // 0x07

inline constexpr std::size_t HeaderSize = 16;

/// One frame as bytes: 16-byte big-endian header, text headers, body.
inline std::vector<std::uint8_t> frame(std::uint16_t ch, std::uint8_t proto, std::uint64_t id,
                                       const std::string& headers, const std::string& body) {
    std::vector<std::uint8_t> b;
    b.reserve(HeaderSize + headers.size() + body.size());
    b.push_back(static_cast<std::uint8_t>(ch >> 8));
    b.push_back(static_cast<std::uint8_t>(ch & 0xFF));
    b.push_back(proto);
    b.push_back(0);  // status
    for (int shift = 56; shift >= 0; shift -= 8) {
        b.push_back(static_cast<std::uint8_t>((id >> shift) & 0xFF));
    }
    b.push_back(static_cast<std::uint8_t>(headers.size() >> 8));
    b.push_back(static_cast<std::uint8_t>(headers.size() & 0xFF));
    b.push_back(static_cast<std::uint8_t>(body.size() >> 8));
    b.push_back(static_cast<std::uint8_t>(body.size() & 0xFF));
    b.insert(b.end(), headers.begin(), headers.end());
    b.insert(b.end(), body.begin(), body.end());
    return b;
}

}  // namespace tofu::testing::wire
