// libFuzzer: check_and_prepare on arbitrary headers, and the header's byte round trip.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "tofu/message.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < tofu::BinaryHeader::BHSIZE) {
        return 0;
    }
    const std::span<const std::uint8_t, tofu::BinaryHeader::BHSIZE> head(data, tofu::BinaryHeader::BHSIZE);
    const tofu::BinaryHeader bh = tofu::BinaryHeader::from(head);
    if (std::memcmp(bh.toBytes().data(), data, tofu::BinaryHeader::BHSIZE) != 0) {
        __builtin_trap();  // decode then encode must give the same 16 bytes
    }
    tofu::MessagePtr m = tofu::Message::create();
    const std::size_t rest = size - tofu::BinaryHeader::BHSIZE;
    const std::size_t split = rest == 0 ? 0 : data[0] % (rest + 1);
    m->setNotSafe(bh, std::string_view(reinterpret_cast<const char*>(data) + 16, split),
                  std::span<const std::uint8_t>(data + 16 + split, rest - split));
    tofu::ValidCombination vc{};
    const tofu::AmpeStatus st = m->check_and_prepare(vc);
    if (tofu::raw_to_status(m->bhdr.status) != st) {
        __builtin_trap();  // the status written is the status returned
    }
    if (st == tofu::AmpeStatus::success &&
        (m->bhdr.thl != split || m->bhdr.bl != rest - split || m->bhdr.message_id == 0 ||
         m->bhdr.proto.origin != tofu::OriginFlag::application)) {
        __builtin_trap();
    }
    return 0;
}
