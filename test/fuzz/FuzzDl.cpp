//===- FuzzDl.cpp - libFuzzer target: the .dl frontend and the passes -----===//
//
// Input: the text of a .dl file. It is parsed (imports resolve relative to
// the working directory), built into the dl dialect, verified, and taken
// through shape inference, autodiff and fusion at batch 2. Every rejection
// must be a diagnostic: a crash, an assertion, a sanitizer report or a hang
// is a bug.
//
//===----------------------------------------------------------------------===//
#include "compiler/Pipelines/Pipelines.h"
#include "dialects/DL/DLOps.h"
#include "frontend/ModelBuilder.h"
#include "frontend/SourceLoader.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"

using namespace mlir;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static MLIRContext *context = [] {
    auto *c = new MLIRContext(MLIRContext::Threading::DISABLED);
    c->loadDialect<dlc::dl::DLDialect, func::FuncDialect>();
    c->getDiagEngine().registerHandler([](Diagnostic &) { return success(); });
    return c;
  }();
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(
          llvm::StringRef(reinterpret_cast<const char *>(data), size), "fuzz.dl"),
      llvm::SMLoc());
  FailureOr<dlc::Program> program = dlc::loadProgram("fuzz.dl", sourceMgr, context);
  if (failed(program))
    return 0;
  FailureOr<OwningOpRef<ModuleOp>> module = dlc::buildModule(*program, "", context);
  if (failed(module) || failed(verify(**module)))
    return 0;
  (void)dlc::runKernelPipeline(**module, 2, {});
  return 0;
}
