//===- options.cc - Options of data sources and steps ---------------------===//
#include "runtime/data/options.h"

#include <algorithm>
#include <cmath>

namespace dlc::rt::data {

Status OptionReader::error(const std::string &name, const std::string &what) const {
  return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                         "option '" + name + "' of '" + kind_ + "' " + what);
}

const OptionValue *OptionReader::find(const std::string &name) {
  known_.push_back(name);
  auto it = options_.find(name);
  return it == options_.end() ? nullptr : &it->second;
}

Status OptionReader::string(const std::string &name, std::string *out, const char *fallback) {
  const OptionValue *value = find(name);
  if (!value) {
    if (!fallback)
      return error(name, "is required (e.g. " + kind_ + "(" + name + "=\"...\"))");
    *out = fallback;
    return okStatus();
  }
  if (!std::holds_alternative<std::string>(*value))
    return error(name, "must be a string");
  *out = std::get<std::string>(*value);
  return okStatus();
}

Status OptionReader::word(const std::string &name, const std::vector<std::string> &words,
                          std::string *out, const char *fallback) {
  DLC_RETURN_IF_ERROR(string(name, out, fallback), "");
  if (std::find(words.begin(), words.end(), *out) != words.end())
    return okStatus();
  std::string list;
  for (const std::string &w : words)
    list += (list.empty() ? "" : ", ") + w;
  return error(name, "must be one of " + list + ", got '" + *out + "'");
}

Status OptionReader::integer(const std::string &name, int64_t lo, int64_t hi, int64_t *out,
                             int64_t fallback) {
  const OptionValue *value = find(name);
  if (!value) {
    if (fallback < lo)
      return error(name, "is required");
    *out = fallback;
    return okStatus();
  }
  const double *v = std::get_if<double>(value);
  if (!v || *v != std::floor(*v))
    return error(name, "must be an integer");
  if (*v < double(lo) || *v > double(hi))
    return error(name, "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
                           std::to_string(int64_t(*v)));
  *out = int64_t(*v);
  return okStatus();
}

Status OptionReader::number(const std::string &name, double *out, bool required) {
  const OptionValue *value = find(name);
  if (!value)
    return required ? error(name, "is required") : okStatus();
  const double *v = std::get_if<double>(value);
  if (!v || !std::isfinite(*v))
    return error(name, "must be a finite number");
  *out = *v;
  return okStatus();
}

bool OptionReader::has(const std::string &name) { return find(name) != nullptr; }

Status OptionReader::numbers(const std::string &name, std::vector<double> *out) {
  const OptionValue *value = find(name);
  if (!value)
    return error(name, "is required");
  if (const double *v = std::get_if<double>(value))
    *out = {*v};
  else if (const auto *list = std::get_if<std::vector<double>>(value))
    *out = *list;
  else
    return error(name, "must be a number or a list of numbers");
  if (out->empty())
    return error(name, "must not be an empty list");
  for (double v : *out)
    if (!std::isfinite(v))
      return error(name, "must hold finite numbers");
  return okStatus();
}

Status OptionReader::finish() const {
  for (const auto &[name, value] : options_)
    if (std::find(known_.begin(), known_.end(), name) == known_.end()) {
      std::string list;
      for (const std::string &k : known_)
        list += (list.empty() ? "" : ", ") + k;
      return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                             "'" + kind_ + "' has no option '" + name + "'" +
                                 (list.empty() ? " (it takes none)" : " (it takes " + list + ")"));
    }
  return okStatus();
}

} // namespace dlc::rt::data
