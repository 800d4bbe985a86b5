//===- op_attrs.h - Reading op attributes and operands in step builders ---===//
#pragma once

#include "runtime/cpu/cpu_device.h"
#include "runtime/op_attrs.h"
#include "runtime/settings.h"

#include <string>
#include <vector>

namespace dlc::rt::cpu {

inline Status bad(const std::string &message) {
  return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, message);
}

inline Status intsAttr(const fb::Op &op, const char *name, size_t count, std::vector<int64_t> *out) {
  const fb::Attr *a = findAttr(op, name);
  if (!a || !a->ints() || (count && a->ints()->size() != count))
    return bad(std::string("attribute '") + name + "' missing or of the wrong size");
  out->assign(a->ints()->begin(), a->ints()->end());
  return okStatus();
}

inline Status intAttr(const fb::Op &op, const char *name, int64_t *out) {
  std::vector<int64_t> v;
  DLC_RETURN_IF_ERROR(intsAttr(op, name, 1, &v), "");
  *out = v[0];
  return okStatus();
}

inline Status floatAttr(const fb::Op &op, const char *name, double *out) {
  const fb::Attr *a = findAttr(op, name);
  if (a && a->floats() && a->floats()->size() == 1) {
    *out = a->floats()->Get(0);
    return okStatus();
  }
  if (a && a->ints() && a->ints()->size() == 1) {
    *out = double(a->ints()->Get(0));
    return okStatus();
  }
  return bad(std::string("attribute '") + name + "' missing or not a number");
}

inline double floatOr(const fb::Op &op, const char *name, double fallback) {
  double v;
  return floatAttr(op, name, &v).ok() ? v : fallback;
}

inline bool boolOr(const fb::Op &op, const char *name, bool fallback) {
  const fb::Attr *a = findAttr(op, name);
  return a && a->ints() && a->ints()->size() == 1 ? a->ints()->Get(0) != 0 : fallback;
}

inline Status sameFlag(const fb::Op &op, bool *same) {
  std::string padding = textAttr(op, "padding");
  if (padding != "same" && padding != "valid")
    return bad("padding must be same or valid, got '" + padding + "'");
  *same = padding == "same";
  return okStatus();
}

inline Status need(const OpContext &ctx, size_t inputs, size_t outputs) {
  if (ctx.numInputs() < inputs || ctx.numOutputs() != outputs)
    return bad("expects " + std::to_string(inputs) + " inputs and " + std::to_string(outputs) +
               " outputs, has " + std::to_string(ctx.numInputs()) + " and " +
               std::to_string(ctx.numOutputs()));
  return okStatus();
}

inline Status rankIs(const TensorView &v, size_t rank, const char *what) {
  if (v.shape.size() != rank)
    return bad(std::string(what) + " must have rank " + std::to_string(rank));
  return okStatus();
}

} // namespace dlc::rt::cpu
