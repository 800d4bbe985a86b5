//===- train_setup.cc - The training setup's JSON schema ------------------===//
#include "runtime/train_setup.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <map>

namespace dlc::rt {
namespace {

using json = nlohmann::json;

Status bad(const std::string &message) {
  return DLC_MAKE_STATUS(StatusCode::kDataLoss, "training setup: " + message);
}

/// "a string", "an object"... for messages.
std::string typeName(const json &j) {
  std::string name = j.type_name(); // "string", "object", "array", "number", ...
  return (name[0] == 'a' || name[0] == 'o' ? "an " : "a ") + name;
}

Status setting(const json &j, const std::string &where, bool strings) {
  if (!j.is_object())
    return bad("'" + where + "' must be an object {\"kind\": ..., \"options\": {...}}, got " +
               typeName(j));
  for (const auto &[key, value] : j.items())
    if (key != "kind" && key != "options")
      return bad("'" + where + "' has an unknown field '" + key + "'");
  if (!j.contains("kind") || !j["kind"].is_string())
    return bad("'" + where + ".kind' must be a string");
  if (!j.contains("options"))
    return okStatus();
  if (!j["options"].is_object())
    return bad("'" + where + ".options' must be an object, got " + typeName(j["options"]));
  for (const auto &[name, value] : j["options"].items()) {
    bool numbers = value.is_array();
    for (const json &e : value.is_array() ? value : json::array())
      numbers &= e.is_number();
    // An option may itself be a setting (an optimizer's learning-rate schedule).
    if (value.is_object()) {
      DLC_RETURN_IF_ERROR(setting(value, where + "." + name, false), "");
      continue;
    }
    bool ok = value.is_boolean() || value.is_number() || numbers || (strings && value.is_string());
    if (!ok)
      return bad("option '" + name + "' of '" + where + "' must be a number" +
                 (strings ? ", a boolean, a string or a list of numbers"
                          : ", a boolean, a list of numbers or a setting") +
                 ", got " + typeName(value));
  }
  return okStatus();
}

Status settings(const json &j, const std::string &where, bool strings) {
  if (!j.is_array())
    return bad("'" + where + "' must be an array, got " + typeName(j));
  for (size_t i = 0; i < j.size(); ++i)
    if (Status s = setting(j[i], where + "[" + std::to_string(i) + "]", strings); !s.ok())
      return s;
  return okStatus();
}

Status numbers(const json &j, const std::string &where, bool indices) {
  if (!j.is_array())
    return bad("'" + where + "' must be an array, got " + typeName(j));
  for (const json &e : j)
    if (indices ? !e.is_number_unsigned() : !e.is_number())
      return bad("'" + where + "' must hold " + (indices ? "indices" : "numbers") + ", got " + e.dump());
  return okStatus();
}

Status positiveInteger(const json &j, const std::string &where) {
  if (!j.is_number_integer() || j.get<int64_t>() < 1)
    return bad("'" + where + "' must be an integer of at least 1, got " + j.dump());
  return okStatus();
}

} // namespace

Setting settingOf(const nlohmann::json &setting) {
  Setting s;
  s.kind = setting.at("kind").get<std::string>();
  if (setting.contains("options"))
    for (const auto &[name, value] : setting.at("options").items()) {
      if (value.is_object())
        s.settings[name] = settingOf(value);
      else if (value.is_array())
        for (const nlohmann::json &v : value)
          s.lists[name].push_back(v.get<double>());
      else
        s.options[name] = value.is_boolean() ? double(value.get<bool>()) : value.get<double>();
    }
  return s;
}

Status parseTrainSetup(const std::string &text, nlohmann::json *out) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded())
    return bad("not valid JSON");
  if (!j.is_object())
    return bad("must be a JSON object, got " + typeName(j));
  if (j.empty()) { // a model without a `train` block
    *out = std::move(j);
    return okStatus();
  }
  using Check = std::function<Status(const json &, const std::string &)>;
  const std::map<std::string, std::pair<bool, Check>> fields = {
      {"batch_size", {true, positiveInteger}},
      {"epochs", {true, positiveInteger}},
      {"shuffle", {true, [](const json &v, const std::string &w) {
         return v.is_boolean() ? okStatus() : bad("'" + w + "' must be a boolean, got " + typeName(v));
       }}},
      {"precision", {true, [](const json &v, const std::string &w) {
         return v.is_string() ? okStatus() : bad("'" + w + "' must be a string, got " + typeName(v));
       }}},
      {"validation", {true, [](const json &v, const std::string &w) {
         return v.is_string() || v.is_number()
                    ? okStatus()
                    : bad("'" + w + "' must be a split name or a fraction, got " + typeName(v));
       }}},
      // One loss for every output of the model, or one per output.
      {"loss", {true, [](const json &v, const std::string &w) {
         return v.is_array() ? settings(v, w, false) : setting(v, w, false);
       }}},
      {"loss_weights", {false, [](const json &v, const std::string &w) { return numbers(v, w, false); }}},
      // The output each metric scores.
      {"metric_outputs", {false, [](const json &v, const std::string &w) { return numbers(v, w, true); }}},
      {"optimizer", {true, [](const json &v, const std::string &w) { return setting(v, w, false); }}},
      {"metrics", {true, [](const json &v, const std::string &w) { return settings(v, w, false); }}},
      {"data_transforms", {true, [](const json &v, const std::string &w) { return settings(v, w, true); }}},
      {"data_source", {false, [](const json &v, const std::string &w) { return setting(v, w, true); }}},
      {"loss_scale", {false, [](const json &v, const std::string &w) { return setting(v, w, false); }}},
      {"callbacks", {false, [](const json &v, const std::string &w) { return settings(v, w, true); }}},
      // The first data transform the training step applies itself (dl.augment).
      {"device_transforms_from", {false, [](const json &v, const std::string &w) {
         return v.is_number_unsigned() ? okStatus()
                                       : bad("'" + w + "' must be a transform's index, got " + typeName(v));
       }}},
  };
  for (const auto &[key, value] : j.items())
    if (!fields.count(key))
      return bad("unknown field '" + key + "'");
  for (const auto &[key, field] : fields) {
    if (!j.contains(key)) {
      if (field.first)
        return bad("the field '" + key + "' is missing");
      continue;
    }
    if (Status s = field.second(j[key], key); !s.ok())
      return s;
  }
  if (j.contains("device_transforms_from") &&
      j["device_transforms_from"].get<uint64_t>() > j["data_transforms"].size())
    return bad("'device_transforms_from' is past the " + std::to_string(j["data_transforms"].size()) +
               " data transforms");
  *out = std::move(j);
  return okStatus();
}

} // namespace dlc::rt
