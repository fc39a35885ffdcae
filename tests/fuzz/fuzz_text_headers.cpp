// libFuzzer: text-header iteration, TextHeaders::append and configurator parsing on arbitrary bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tofu/configurator.hpp"
#include "tofu/message.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);

    // Iteration never reads out of bounds, always ends, and every record it yields can be re-appended
    // unless it is one append() must refuse (empty, ':' or CR/LF in the name, CR/LF in the value).
    tofu::TextHeaderIterator it(bytes);
    tofu::TextHeaders copy;
    std::size_t records = 0;
    while (std::optional<tofu::TextHeader> h = it.next()) {
        if (++records > size + 1) {
            __builtin_trap();  // more records than bytes: the iterator does not advance
        }
        try {
            copy.append(h->name, h->value);
        } catch (const tofu::AmpeError&) {
        }
    }

    // Configurators from any header value, for servers and clients; a parsed one re-serialises and parses
    // back to the same configurator.
    for (bool server : {false, true}) {
        const tofu::Configurator c = tofu::Configurator::fromString(bytes, server);
        if (!c.isWrong()) {
            tofu::MessagePtr m = tofu::Message::create();
            try {
                c.prepareRequest(*m);
            } catch (const tofu::AmpeError&) {
                continue;  // e.g. a value with CR/LF: refused, as it must be
            }
            if (!(tofu::Configurator::fromMessage(*m) == c)) {
                __builtin_trap();
            }
        }
    }
    tofu::MessagePtr m = tofu::Message::create();
    m->thdrs.appendNotSafe(bytes);
    (void)tofu::Configurator::fromMessage(*m);
    return 0;
}
