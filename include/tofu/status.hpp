// tofu: statuses carried in BinaryHeader::status, and their C++ error category.
#pragma once

#include "tofu/export.hpp"

#include <cstdint>
#include <string_view>
#include <system_error>

namespace tofu {

/// Status codes, in the original's order: the numeric value travels on the wire.
enum class AmpeStatus : std::uint8_t {
    success = 0,
    not_implemented_yet,
    wrong_configuration,
    not_allowed,
    null_message,
    invalid_message,
    invalid_message_type,
    invalid_message_mode,
    invalid_headers_len,
    invalid_body_len,
    invalid_more_usage,
    invalid_channel_number,
    invalid_mchn_group,
    invalid_message_id,
    invalid_address,
    uds_path_not_found,
    notification_disabled,
    notification_failed,
    peer_disconnected,
    communication_failed,
    pool_empty,
    allocation_failed,
    receiver_update,
    channel_closed,
    shutdown_started,
    connect_failed,
    listen_failed,
    accept_failed,
    send_failed,
    recv_failed,
    setsockopt_failed,
    processing_failed,
    unknown_error,
};

/// The original's spelling of slot 12, kept so its docs map one to one.
inline constexpr AmpeStatus invelid_mchn_group = AmpeStatus::invalid_mchn_group;

/// Name of a status as written in the original ("channel_closed"); "unknown_error" for out-of-range values.
[[nodiscard]] TOFU_API std::string_view statusName(AmpeStatus st) noexcept;

/// The "tofu" error category; error values are AmpeStatus values.
[[nodiscard]] TOFU_API const std::error_category& tofu_category() noexcept;

[[nodiscard]] TOFU_API std::error_code make_error_code(AmpeStatus st) noexcept;

/// Every failure of the tofu API is reported with this exception; code() holds the AmpeStatus.
class TOFU_API AmpeError : public std::system_error {
  public:
    explicit AmpeError(AmpeStatus st);
    AmpeError(AmpeStatus st, const std::string& what);

    [[nodiscard]] AmpeStatus status() const noexcept { return static_cast<AmpeStatus>(code().value()); }
};

/// Any raw value >= unknown_error maps to unknown_error.
[[nodiscard]] constexpr AmpeStatus raw_to_status(std::uint8_t rs) noexcept {
    return rs >= static_cast<std::uint8_t>(AmpeStatus::unknown_error) ? AmpeStatus::unknown_error
                                                                      : static_cast<AmpeStatus>(rs);
}

[[nodiscard]] constexpr std::uint8_t status_to_raw(AmpeStatus st) noexcept {
    return static_cast<std::uint8_t>(st);
}

/// Throws AmpeError for a non-zero raw status.
TOFU_API void raw_to_error(std::uint8_t rs);

/// Throws AmpeError unless st is success.
TOFU_API void status_to_error(AmpeStatus st);

}  // namespace tofu

template <>
struct std::is_error_code_enum<tofu::AmpeStatus> : std::true_type {};
