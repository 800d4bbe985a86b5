//===- MemoryFit.cpp - Does the model fit the machine that will run it? ---===//
#include "compiler/Analysis/MemoryFit.h"

#include "dialects/DL/DLOps.h"
#include "runtime/limits.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <limits>

using namespace mlir;

namespace {

/// a + b, saturating: a sum past 2^64 bytes is "too much" all the same.
uint64_t saturatingAdd(uint64_t a, uint64_t b) {
  uint64_t sum;
  return __builtin_add_overflow(a, b, &sum) ? std::numeric_limits<uint64_t>::max() : sum;
}

std::string shapeText(RankedTensorType type) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << type;
  return text;
}

} // namespace

LogicalResult dlc::checkModelFitsMemory(ModuleOp module, uint64_t limitBytes) {
  uint64_t parameters = 0, largest = 0;
  dl::ParamOp dominant;
  for (dl::ParamOp param : module.getOps<dl::ParamOp>()) {
    RankedTensorType type = param.getTensorType();
    uint64_t bytes = uint64_t(type.getNumElements()) * (type.getElementTypeBitWidth() / 8);
    parameters = saturatingAdd(parameters, bytes);
    if (bytes > largest) {
      largest = bytes;
      dominant = param;
    }
  }
  uint64_t arena = 0;
  StringRef arenaOf;
  for (auto func : module.getOps<func::FuncOp>())
    if (auto bytes = func->getAttrOfType<IntegerAttr>("dl.arena_bytes"))
      if (uint64_t(bytes.getInt()) > arena) {
        arena = uint64_t(bytes.getInt());
        arenaOf = func.getSymName();
      }
  uint64_t total = saturatingAdd(parameters, arena);
  if (total <= limitBytes)
    return success();
  InFlightDiagnostic error = dominant ? dominant.emitError() : module.emitError();
  error << "the model needs " << rt::byteString(total) << ", more than the "
        << rt::byteString(limitBytes) << " of memory this machine has: parameters and optimizer slots "
        << rt::byteString(parameters);
  if (dominant)
    error << " (the largest, '" << dominant.getSymName() << "' " << shapeText(dominant.getTensorType())
          << ", " << rt::byteString(largest) << ")";
  if (arena)
    error << ", activations of '" << arenaOf << "' " << rt::byteString(arena);
  error.attachNote() << "make the layer smaller (fewer units or filters, or pool before it), or "
                        "compile for a smaller --batch";
  return failure();
}
