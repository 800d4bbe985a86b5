//===- dlc.cpp - The dlc compiler driver -----------------------------------===//
//
//   dlc check MODEL.dl                 Keras-style summary and training setup
//   dlc compile MODEL.dl --emit=ast    the syntax tree, with locations
//   dlc compile MODEL.dl --emit=mlir   the dl dialect
//
// Every error reaches the user as `file:line:col: error: message`, the source
// line and a caret; the exit status is then 1.
//
//===----------------------------------------------------------------------===//
#include "compiler/Analysis/ModelSummary.h"
#include "compiler/Transforms/Passes.h"
#include "dialects/DL/DLOps.h"
#include "frontend/ModelBuilder.h"
#include "frontend/SourceLoader.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OperationSupport.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <CLI/CLI.hpp>

using namespace mlir;

namespace {
struct Options {
  std::string input;
  std::string model;
  std::string emit = "mlir";
  std::string output = "-";
  bool verifyDiagnostics = false;
  bool debugInfo = false;
};

/// Loads, builds and hands the module (or, for --emit=ast, the program) to
/// |consume|. Returns the process exit status.
int runFrontend(const Options &options,
                llvm::function_ref<LogicalResult(const dlc::Program &, ModuleOp)> consume,
                bool needModule) {
  MLIRContext context;
  context.loadDialect<dlc::dl::DLDialect, func::FuncDialect>();
  // The op dump that MLIR attaches to verifier errors means nothing to a .dl
  // author: the location and message do.
  context.printOpOnDiagnostic(false);
  context.printStackTraceOnDiagnostic(false);
  llvm::SourceMgr sourceMgr;

  // The main file is read here so that a missing one is reported plainly and
  // the verifier sees its expected-* comments before anything is emitted.
  if (llvm::sys::fs::is_directory(options.input)) {
    llvm::errs() << "dlc: error: '" << options.input << "' is a directory, not a .dl file\n";
    return 1;
  }
  auto buffer = llvm::MemoryBuffer::getFile(options.input);
  if (!buffer) {
    llvm::errs() << "dlc: error: cannot open '" << options.input
                 << "': " << buffer.getError().message() << "\n";
    return 1;
  }
  sourceMgr.AddNewSourceBuffer(std::move(*buffer), llvm::SMLoc());
  std::unique_ptr<SourceMgrDiagnosticHandler> handler;
  std::unique_ptr<SourceMgrDiagnosticVerifierHandler> verifier;
  if (options.verifyDiagnostics)
    verifier = std::make_unique<SourceMgrDiagnosticVerifierHandler>(sourceMgr, &context);
  else
    handler = std::make_unique<SourceMgrDiagnosticHandler>(sourceMgr, &context);

  LogicalResult result = [&]() -> LogicalResult {
    FailureOr<dlc::Program> program = dlc::loadProgram(options.input, sourceMgr, &context);
    if (failed(program))
      return failure();
    if (!needModule)
      return consume(*program, nullptr);
    FailureOr<OwningOpRef<ModuleOp>> module = dlc::buildModule(*program, options.model, &context);
    if (failed(module))
      return failure();
    return consume(*program, **module);
  }();

  if (verifier)
    return failed(verifier->verify()) ? 1 : 0;
  return failed(result) ? 1 : 0;
}

int writeOutput(const Options &options, llvm::function_ref<void(llvm::raw_ostream &)> write) {
  std::string error;
  auto output = mlir::openOutputFile(options.output, &error);
  if (!output) {
    llvm::errs() << "dlc: error: " << error << "\n";
    return 1;
  }
  write(output->os());
  output->keep();
  return 0;
}

int check(const Options &options) {
  return runFrontend(
      options,
      [&](const dlc::Program &, ModuleOp module) {
        dlc::printSummary(dlc::summarizeModel(module), llvm::outs());
        dlc::printTrainSetup(module, llvm::outs());
        return success();
      },
      /*needModule=*/true);
}

int compile(const Options &options) {
  if (options.emit != "ast" && options.emit != "mlir") {
    llvm::errs() << "dlc: error: unknown --emit stage '" << options.emit
                 << "' (stages: ast, mlir)\n";
    return 1;
  }
  int status = 0;
  int frontend = runFrontend(
      options,
      [&](const dlc::Program &program, ModuleOp module) {
        status = writeOutput(options, [&](llvm::raw_ostream &os) {
          if (options.emit == "ast") {
            for (const auto &file : program.files)
              dlc::ast::dump(*file, os);
            return;
          }
          OpPrintingFlags flags;
          if (options.debugInfo)
            flags.enableDebugInfo(/*enable=*/true, /*prettyForm=*/false);
          module->print(os, flags);
          os << "\n";
        });
        return success(status == 0);
      },
      /*needModule=*/options.emit != "ast");
  return frontend ? frontend : status;
}
} // namespace

int main(int argc, char **argv) {
  CLI::App app{"dlc: a deep-learning compiler for .dl models"};
  app.require_subcommand(1);
  Options options;

  auto addCommon = [&](CLI::App *command) {
    command->add_option("model", options.input, "the .dl file")->required();
    command->add_option("--model", options.model, "which model of the file (when it has several)");
    command->add_flag("--verify-diagnostics", options.verifyDiagnostics,
                      "check errors against expected-error comments (for tests)");
  };
  CLI::App *checkCommand = app.add_subcommand("check", "print the model summary and training setup");
  addCommon(checkCommand);
  CLI::App *compileCommand = app.add_subcommand("compile", "compile a model");
  addCommon(compileCommand);
  compileCommand->add_option("--emit", options.emit, "stage to print: ast, mlir")->capture_default_str();
  compileCommand->add_option("-o", options.output, "output file (- for stdout)");
  compileCommand->add_flag("--debug-info", options.debugInfo, "print source locations in the IR");

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success &success) {
    return app.exit(success);
  } catch (const CLI::ParseError &error) {
    app.exit(error);
    return 1;
  }
  if (*checkCommand)
    return check(options);
  return compile(options);
}
