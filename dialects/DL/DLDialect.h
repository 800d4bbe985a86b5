//===- DLDialect.h - The dl dialect ---------------------------------------===//
#pragma once

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Dialect.h"

#include "dialects/DL/DLDialect.h.inc"
#include "dialects/DL/DLEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/DL/DLAttrs.h.inc"

#include <vector>

namespace dlc::dl {
/// Every precision policy's keyword, in the enum's order (the one list the
/// command line, the training setup and the pass check against).
inline std::vector<const char *> precisionPolicies() {
  std::vector<const char *> names; // stringifyPrecision's texts are literals
  for (uint32_t i = 0; i <= getMaxEnumValForPrecision(); ++i)
    names.push_back(stringifyPrecision(Precision(i)).data());
  return names;
}
} // namespace dlc::dl
