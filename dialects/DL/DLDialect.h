//===- DLDialect.h - The dl dialect ---------------------------------------===//
#pragma once

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Dialect.h"

#include "dialects/DL/DLDialect.h.inc"
#include "dialects/DL/DLEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/DL/DLAttrs.h.inc"
