//===- DLDialect.cpp - dl dialect registration ---------------------------===//
#include "dialects/DL/DLOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace dlc::dl;

#include "dialects/DL/DLDialect.cpp.inc"
#include "dialects/DL/DLEnums.cpp.inc"
#include "dialects/DL/DLInterfaces.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/DL/DLAttrs.cpp.inc"

void DLDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/DL/DLOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/DL/DLAttrs.cpp.inc"
      >();
}
