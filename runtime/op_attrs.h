//===- op_attrs.h - Reading the attributes of a bundle's ops --------------===//
#pragma once

#include "runtime/data/transforms.h"
#include "runtime/schemas/bundle_generated.h"
#include "runtime/settings.h"
#include "runtime/status.h"

#include <algorithm>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace dlc::rt {

inline const fb::Attr *findAttr(const fb::Op &op, const char *name) {
  if (op.attrs())
    for (const fb::Attr *a : *op.attrs())
      if (a->name()->str() == name)
        return a;
  return nullptr;
}

inline bool hasAttr(const fb::Op &op, const char *name) { return findAttr(op, name) != nullptr; }

inline std::string textAttr(const fb::Op &op, const char *name) {
  const fb::Attr *a = findAttr(op, name);
  return a && a->text() ? a->text()->str() : "";
}

/// Sizes of the variadic operand groups (the op's operandSegmentSizes), or
/// empty when the op has none.
inline std::vector<int64_t> operandSegments(const fb::Op &op) {
  std::vector<int64_t> sizes;
  if (const fb::Attr *a = findAttr(op, "operandSegmentSizes"))
    if (a->ints())
      sizes.assign(a->ints()->begin(), a->ints()->end());
  return sizes;
}

/// The numbers an attribute holds (its floats, else its ints as doubles).
inline std::vector<double> numbersOf(const fb::Attr &a) {
  std::vector<double> values;
  if (a.floats())
    values.assign(a.floats()->begin(), a.floats()->end());
  else if (a.ints())
    for (int64_t v : *a.ints())
      values.push_back(double(v));
  return values;
}

/// The attribute of a loss op (dl.loss, dl.loss_grad, dl.example_loss) that
/// weights one output's loss in a model's (absent: 1).
inline constexpr const char *kLossWeight = "weight";

/// The #dl.config of |op| (a loss, an optimizer update) as a Setting to
/// decode (runtime/settings.h): the `config` attribute's text is the kind,
/// every other attribute one of its options (the program lowering writes a
/// config's options as attributes of the op): numbers, lists, and an option
/// that is itself a config as its kind (text) plus `option.name` entries.
/// |ownAttributes| are the op's own, not options (a loss's `weight`).
inline Status settingOf(const fb::Op &op, Setting *out,
                        std::initializer_list<std::string_view> ownAttributes = {}) {
  *out = Setting();
  out->kind = textAttr(op, "config");
  if (op.attrs())
    for (const fb::Attr *a : *op.attrs()) {
      std::string name = a->name()->str();
      if (name == "config" || name == "operandSegmentSizes" || // the op's structure, not options
          std::find(ownAttributes.begin(), ownAttributes.end(), name) != ownAttributes.end())
        continue;
      Setting *owner = out;
      if (size_t dot = name.find('.'); dot != std::string::npos) {
        owner = &out->settings[name.substr(0, dot)];
        name = name.substr(dot + 1);
      }
      std::vector<double> values = numbersOf(*a);
      if (a->text() && !a->floats() && !a->ints() && owner == out)
        out->settings[name].kind = a->text()->str();
      else if (values.size() == 1)
        owner->options[name] = values[0];
      else if (!values.empty())
        owner->lists[name] = std::move(values);
      else
        return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                               "option '" + name + "' of '" + out->kind + "' is not a number or a list");
    }
  return okStatus();
}

/// The data transform of a dl.augment op and its position in the data
/// section: the `config` attribute's text is the kind, `position` the
/// position, every other attribute an option (a word as text, a number, or
/// a list of numbers).
inline Status transformOf(const fb::Op &op, data::TransformSpec *spec, uint64_t *position) {
  *spec = data::TransformSpec();
  spec->kind = textAttr(op, "config");
  const fb::Attr *at = findAttr(op, "position");
  if (spec->kind.empty() || !at || !at->ints() || at->ints()->size() != 1 || at->ints()->Get(0) < 0)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           "augment needs a transform (config) and its position in the data section");
  *position = uint64_t(at->ints()->Get(0));
  for (const fb::Attr *a : *op.attrs()) {
    const std::string name = a->name()->str();
    if (name == "config" || name == "position")
      continue;
    std::vector<double> values = numbersOf(*a);
    if (a->text() && values.empty())
      spec->options[name] = a->text()->str();
    else if (values.size() == 1)
      spec->options[name] = values[0];
    else if (!values.empty())
      spec->options[name] = values;
    else
      return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                             "option '" + name + "' of '" + spec->kind + "' has no value");
  }
  return okStatus();
}

} // namespace dlc::rt
