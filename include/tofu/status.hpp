// tofu: statuses carried in BinaryHeader::status, and their C++ error category.
#pragma once

#include "tofu/export.hpp"

#include <cstdint>
#include <string_view>
#include <system_error>

namespace tofu {

/// Status codes, in the original's order: the numeric value travels on the wire.
enum class AmpeStatus : std::uint8_t {
    /// Everything went well.
    success = 0,
    /// A poller backend asked for on a platform where it is not built.
    not_implemented_yet,
    /// A Welcome/Hello without text headers (refused by enqueueToPeer), or an unusable configurator.
    wrong_configuration,
    /// An operation the message may not ask for (origin engine, a WelcomeResponse, ...).
    not_allowed,
    /// enqueueToPeer() with an empty MessagePtr.
    null_message,
    /// A text header with an empty or forbidden name or value; a malformed message.
    invalid_message,
    /// Kept for the original's numbering; not reported by the C++ engine.
    invalid_message_type,
    /// A type/role combination an application may not send.
    invalid_message_mode,
    /// Text headers longer than 65535 bytes.
    invalid_headers_len,
    /// Body longer than 65535 bytes.
    invalid_body_len,
    /// The more flag on a message that is not regular.
    invalid_more_usage,
    /// Channel 0 where it is not allowed, or a channel that does not exist.
    invalid_channel_number,
    /// A channel that belongs to another group.
    invalid_mchn_group,
    /// A response without a message id.
    invalid_message_id,
    /// A Welcome/Hello whose headers give no usable address (none, unparsable, or the other side's),
    /// an address that does not resolve, or one that is not local (for a listener).
    invalid_address,
    /// A Hello to a Unix socket path that does not exist.
    uds_path_not_found,
    /// Kept for the original's numbering.
    notification_disabled,
    /// The engine's internal wake-up failed.
    notification_failed,
    /// The peer closed the connection (or refused it at once).
    peer_disconnected,
    /// The peer broke the protocol and was disconnected.
    communication_failed,
    /// The pool had no message to receive into; reading paused (a notification).
    pool_empty,
    /// Out of memory, or out of channel numbers.
    allocation_failed,
    /// A message or signal put in the receive queue by updateReceiver().
    receiver_update,
    /// The channel is closed: its final signal, or a message that could no longer be sent.
    channel_closed,
    /// The group or the engine is being destroyed.
    shutdown_started,
    /// Connecting failed.
    connect_failed,
    /// Listening failed (address already in use, among others).
    listen_failed,
    /// Accepting a connection failed.
    accept_failed,
    /// Sending on an open channel failed, or a message did not fit the send queue.
    send_failed,
    /// Receiving on an open channel failed.
    recv_failed,
    /// Setting a socket option failed.
    setsockopt_failed,
    /// An internal failure of the engine (e.g. the poller could not be created).
    processing_failed,
    /// Any value the list does not know.
    unknown_error,
};

/// The original's spelling of slot 12, kept so its docs map one to one.
inline constexpr AmpeStatus invelid_mchn_group = AmpeStatus::invalid_mchn_group;

/// Name of a status as written in the original ("channel_closed"); "unknown_error" for out-of-range values.
[[nodiscard]] TOFU_API std::string_view statusName(AmpeStatus st) noexcept;

/// The "tofu" error category; error values are AmpeStatus values.
[[nodiscard]] TOFU_API const std::error_category& tofu_category() noexcept;

/// st as a std::error_code of tofu_category(); lets AmpeStatus compare with std::error_code.
[[nodiscard]] TOFU_API std::error_code make_error_code(AmpeStatus st) noexcept;

/// Every failure of the tofu API is reported with this exception; code() holds the AmpeStatus.
class TOFU_API AmpeError : public std::system_error {
  public:
    /// An error for st; what() is the status name.
    explicit AmpeError(AmpeStatus st);
    /// An error for st; what() is the explanation followed by the status name.
    AmpeError(AmpeStatus st, const std::string& what);

    /// The status this error reports.
    [[nodiscard]] AmpeStatus status() const noexcept { return static_cast<AmpeStatus>(code().value()); }
};

/// Any raw value >= unknown_error maps to unknown_error.
[[nodiscard]] constexpr AmpeStatus raw_to_status(std::uint8_t rs) noexcept {
    return rs >= static_cast<std::uint8_t>(AmpeStatus::unknown_error) ? AmpeStatus::unknown_error
                                                                      : static_cast<AmpeStatus>(rs);
}

/// The raw byte of st, as stored in BinaryHeader::status.
[[nodiscard]] constexpr std::uint8_t status_to_raw(AmpeStatus st) noexcept {
    return static_cast<std::uint8_t>(st);
}

/// Throws AmpeError for a non-zero raw status.
TOFU_API void raw_to_error(std::uint8_t rs);

/// Throws AmpeError unless st is success.
TOFU_API void status_to_error(AmpeStatus st);

}  // namespace tofu

/// @cond INTERNAL
template <>
struct std::is_error_code_enum<tofu::AmpeStatus> : std::true_type {};
/// @endcond
