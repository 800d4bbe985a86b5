#include "runtime/status.h"

namespace dlc::rt {

const char *statusCodeName(StatusCode code) {
  switch (code) {
  case StatusCode::kOk: return "ok";
  case StatusCode::kInvalidArgument: return "invalid_argument";
  case StatusCode::kNotFound: return "not_found";
  case StatusCode::kUnavailable: return "unavailable";
  case StatusCode::kDataLoss: return "data_loss";
  case StatusCode::kInternal: return "internal";
  case StatusCode::kResourceExhausted: return "resource_exhausted";
  }
  return "unknown";
}

std::string Status::toString() const {
  if (ok())
    return "ok";
  std::string text = std::string(statusCodeName(code_)) + ": " + message_;
  if (line_ > 0)
    text += " (" + std::string(file_) + ":" + std::to_string(line_) + ")";
  return text;
}

Status &Status::annotate(const std::string &context) {
  if (!ok() && !context.empty())
    message_ = context + ": " + message_;
  return *this;
}

} // namespace dlc::rt
