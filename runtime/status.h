//===- status.h - Status results of the dlc runtime ---------------------===//
//
// Every fallible runtime call returns a Status: the runtime never prints and
// never aborts, so an embedding application decides what an error means.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <string>
#include <utility>

namespace dlc::rt {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kUnavailable,
  kDataLoss,
  kInternal,
  kResourceExhausted, // more memory, disk or elements than the machine or a limit allows
};

/// Returns the canonical lower-case name of |code|, e.g. "invalid_argument".
const char *statusCodeName(StatusCode code);

class Status {
public:
  Status() = default;
  Status(StatusCode code, std::string message, const char *file = "", int line = 0)
      : code_(code), message_(std::move(message)), file_(file), line_(line) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string &message() const { return message_; }
  /// "invalid_argument: message (file:line)".
  std::string toString() const;

  /// Prefixes the message with |context| as the error travels up.
  Status &annotate(const std::string &context);

private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  const char *file_ = "";
  int line_ = 0;
};

inline Status okStatus() { return Status(); }

} // namespace dlc::rt

#define DLC_MAKE_STATUS(code, msg) ::dlc::rt::Status((code), (msg), __FILE__, __LINE__)

#define DLC_RETURN_IF_ERROR(expr, context)                                     \
  do {                                                                         \
    ::dlc::rt::Status dlc_status_ = (expr);                                    \
    if (!dlc_status_.ok())                                                     \
      return dlc_status_.annotate(context);                                    \
  } while (0)
