//===- options.h - Options of data sources and steps ----------------------===//
//
// The compiler hands the runtime each source and step as a kind name plus
// options (dialects/DL/DLCatalog.cpp lists them). The runtime must not expose
// nlohmann in a public header, so options travel as a plain map whose values
// are a number (integers too), a string (paths, and words such as
// "bilinear") or a list of numbers (per-channel means). The compiler has
// already checked types and ranges; the runtime checks again, because `dlc
// train` also takes data on the command line.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/status.h"

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace dlc::rt::data {

using OptionValue = std::variant<double, std::string, std::vector<double>>;
using Options = std::map<std::string, OptionValue>;

/// Reads typed options of one source or step, naming |kind| in errors. Every
/// getter records the name it was asked for, so finish() can reject options
/// the kind does not have (a misspelt option must not be silently ignored).
class OptionReader {
public:
  OptionReader(std::string kind, const Options &options)
      : kind_(std::move(kind)), options_(options) {}

  /// A string option; missing and no default is an error.
  Status string(const std::string &name, std::string *out, const char *fallback = nullptr);
  /// One of |words|.
  Status word(const std::string &name, const std::vector<std::string> &words, std::string *out,
              const char *fallback);
  /// An integer in [lo, hi]; |fallback| < lo means required.
  Status integer(const std::string &name, int64_t lo, int64_t hi, int64_t *out,
                 int64_t fallback = INT64_MIN);
  /// A finite number; |required| false leaves *out alone when absent.
  Status number(const std::string &name, double *out, bool required = true);
  /// A number or a non-empty list of numbers.
  Status numbers(const std::string &name, std::vector<double> *out);
  /// Whether |name| was given (and records it as known).
  bool has(const std::string &name);
  /// Rejects any option no getter asked for.
  Status finish() const;

  const std::string &kind() const { return kind_; }

private:
  Status error(const std::string &name, const std::string &what) const;
  const OptionValue *find(const std::string &name);

  std::string kind_;
  const Options &options_;
  std::vector<std::string> known_;
};

} // namespace dlc::rt::data
