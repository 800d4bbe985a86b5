//===- PrecisionReport.cpp - What each op runs in, and why -----------------===//
#include "compiler/Analysis/PrecisionReport.h"

#include "compiler/Transforms/PrecisionPolicy.h"
#include "dialects/DL/DLOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include <map>
#include "llvm/Support/Format.h"

using namespace mlir;

namespace dlc {
namespace {

std::string where(Location loc) {
  if (auto named = dyn_cast<NameLoc>(loc))
    return where(named.getChildLoc());
  if (auto fused = dyn_cast<FusedLoc>(loc))
    return fused.getLocations().empty() ? "" : where(fused.getLocations().front());
  if (auto file = dyn_cast<FileLineColLoc>(loc)) {
    StringRef name = file.getFilename().strref();
    return (name.substr(name.find_last_of('/') + 1) + ":" + Twine(file.getLine()) + ":" +
            Twine(file.getColumn()))
        .str();
  }
  return "";
}

std::string types(ValueRange values) {
  std::string text;
  llvm::raw_string_ostream os(text);
  bool first = true;
  for (Value v : values) {
    os << (first ? "" : ", ");
    first = false;
    if (auto shaped = dyn_cast<ShapedType>(v.getType()))
      os << shaped.getElementType();
    else
      os << v.getType();
  }
  return text.empty() ? "-" : text;
}

} // namespace

void printPrecisionReport(ModuleOp module, llvm::raw_ostream &os) {
  dl::Precision policy = dl::Precision::fp32;
  for (auto setup : module.getOps<dl::TrainSetupOp>())
    policy = setup.getPrecision();
  os << "precision policy " << dl::stringifyPrecision(policy);
  if (policy == dl::Precision::tf32)
    os << ": every value f32; conv2d, dense and their gradients round their matrix operands to "
          "TF32 (tensor cores)\n";
  else
    os << ": 16-bit type " << precision::lowType(module.getContext(), policy)
       << "; parameters are f32 master weights\n";
  for (auto func : module.getOps<func::FuncOp>()) {
    if (func.isExternal())
      continue;
    os << "\n@" << func.getSymName() << "\n";
    std::map<std::string, int> counts;
    int casts = 0, tf32 = 0;
    for (Operation &op : func.getBody().front()) {
      auto why = op.getAttrOfType<StringAttr>(precision::kPrecisionAttr);
      if (!why)
        continue;
      std::string results = types(op.getResults());
      tf32 += op.hasAttr(precision::kTf32Attr);
      if (isa<dl::CastOp>(op))
        ++casts;
      else
        ++counts[results];
      os << "  " << llvm::left_justify(where(op.getLoc()), 22) << " "
         << llvm::left_justify(op.getName().stripDialect(), 26) << " "
         << llvm::left_justify(types(op.getOperands()) + " -> " + results, 34) << " "
         << why.getValue() << "\n";
    }
    os << "  ops by result type:";
    for (const auto &[type, n] : counts)
      os << " " << type << " " << n << ";";
    os << " casts " << casts;
    if (policy == dl::Precision::tf32)
      os << "; TF32 products " << tf32;
    os << "\n";
  }
}

} // namespace dlc
