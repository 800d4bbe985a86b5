//===- dlc-opt.cpp - mlir-opt for the dl dialect and dlc passes ----------===//
#include "compiler/Codegen/CUDA/Passes.h"
#include "compiler/Target/Passes.h"
#include "compiler/Transforms/Passes.h"
#include "dialects/DL/DLOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  registry.insert<dlc::dl::DLDialect, mlir::func::FuncDialect>();
  dlc::registerDLCPasses();
  dlc::cuda::registerDLCCudaPasses();
  dlc::registerDLCTargetPasses();
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "dlc optimizer driver\n", registry));
}
