//===- dlc.cpp - The dlc compiler driver -----------------------------------===//
//
//   dlc check MODEL.dl                 Keras-style summary and training setup
//   dlc compile MODEL.dl --emit=ast    the syntax tree, with locations
//   dlc compile MODEL.dl --emit=mlir   the dl dialect
//   dlc compile MODEL.dl --emit=fused  after shapes, autodiff and kernel fusion
//   dlc compile MODEL.dl --emit=kernels  + the kernel families of --target (dlc-select-kernels)
//                                       and the memory plan (dlc-plan-memory)
//   dlc compile MODEL.dl -o M.dlcb     a bundle for the runtime
//       [--target cpu,cuda [--cuda-arch sm_80,sm_90]]   with CUDA kernels (NVRTC)
//   dlc inspect M.dlcb [--json] [--device h200]  programs, kernels, buffers of a bundle; predicted times
//   dlc catalog [--json]               layers, options, losses, ops, kernel families
//   dlc train|eval|run|bench M.dl|M.dlcb   execute on a runtime device
//
// Every error reaches the user as `file:line:col: error: message`, the source
// line and a caret; the exit status is then 1.
//
//===----------------------------------------------------------------------===//
#include "compiler/Analysis/MemoryFit.h"
#include "compiler/Analysis/ModelSummary.h"
#include "compiler/Analysis/PrecisionReport.h"
#include "compiler/Pipelines/Pipelines.h"
#include "compiler/Target/BundleWriter.h"
#include "compiler/Transforms/Passes.h"
#include "dialects/DL/DLOps.h"
#include "frontend/ModelBuilder.h"
#include "frontend/SourceLoader.h"
#include "runtime/file_io.h"
#include "runtime/limits.h"
#include "tools/dlc/CatalogCommand.h"
#include "tools/dlc/GradCommand.h"
#include "tools/dlc/InspectCommand.h"
#include "tools/dlc/RuntimeCommands.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OperationSupport.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <CLI/CLI.hpp>
#include <optional>
#include <set>

using namespace mlir;

namespace {
struct Options {
  std::string input;
  std::string model;
  std::string emit;   // default: bundle when -o names a file, else mlir
  std::string output = "-";
  std::string targets = "cpu";
  std::vector<std::string> cudaArchs; // empty: BundleOptions' default
  bool verbose = false;
  int64_t batch = 0;
  std::string precision; // "": the training setup's policy
  dlc::KernelChoices kernels; // --deterministic, --kernels
  std::string initialValues = "embedded";
  bool json = false;
  bool verifyDiagnostics = false;
  bool debugInfo = false;
  bool splitInputFile = false;
  dlc::GradOptions grad;
  dlc::RuntimeOptions runtime;
};

/// Loads and builds one buffer (the whole input, or one chunk of it with the
/// other chunks blanked so that line numbers stay those of the file), then
/// hands the module (or, for --emit=ast, the program) to |consume|. Returns
/// the exit status.
int runBuffer(const Options &options, std::unique_ptr<llvm::MemoryBuffer> buffer,
              llvm::function_ref<LogicalResult(const dlc::Program &, ModuleOp)> consume,
              bool needModule) {
  MLIRContext context;
  context.loadDialect<dlc::dl::DLDialect, func::FuncDialect>();
  // The op dump that MLIR attaches to verifier errors means nothing to a .dl
  // author: the location and message do.
  context.printOpOnDiagnostic(false);
  context.printStackTraceOnDiagnostic(false);
  llvm::SourceMgr sourceMgr;
  // The verifier must see the expected-* comments before anything is emitted.
  sourceMgr.AddNewSourceBuffer(std::move(buffer), llvm::SMLoc());
  std::unique_ptr<SourceMgrDiagnosticHandler> handler;
  std::unique_ptr<SourceMgrDiagnosticVerifierHandler> verifier;
  if (options.verifyDiagnostics)
    verifier = std::make_unique<SourceMgrDiagnosticVerifierHandler>(sourceMgr, &context);
  else
    handler = std::make_unique<SourceMgrDiagnosticHandler>(sourceMgr, &context);
  // Each program (forward, grad, train step) holds its own copy of a layer's
  // ops: the same problem is reported once, not once per program.
  std::set<std::string> reported;
  std::optional<ScopedDiagnosticHandler> once;
  if (handler)
    once.emplace(&context, [&](Diagnostic &diagnostic) {
      std::string key;
      llvm::raw_string_ostream os(key);
      os << int(diagnostic.getSeverity()) << diagnostic.getLocation() << diagnostic.str();
      return success(!reported.insert(os.str()).second); // success: handled (dropped)
    });

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

/// Line ranges [begin, end) of the chunks between `# -----` lines.
std::vector<std::pair<size_t, size_t>> splitChunks(llvm::ArrayRef<llvm::StringRef> lines) {
  std::vector<std::pair<size_t, size_t>> chunks;
  size_t begin = 0;
  for (size_t i = 0; i < lines.size(); ++i)
    if (lines[i].trim() == "# -----") {
      chunks.push_back({begin, i});
      begin = i + 1;
    }
  chunks.push_back({begin, lines.size()});
  return chunks;
}

int runFrontend(const Options &options,
                llvm::function_ref<LogicalResult(const dlc::Program &, ModuleOp)> consume,
                bool needModule) {
  // The main file is read here so that a missing one is reported plainly.
  std::string error;
  std::unique_ptr<llvm::MemoryBuffer> buffer = dlc::readSourceFile(options.input, &error);
  if (!buffer) {
    llvm::errs() << "dlc: error: " << error << "\n";
    return 1;
  }
  if (!options.splitInputFile)
    return runBuffer(options, std::move(buffer), consume, needModule);

  llvm::SmallVector<llvm::StringRef> lines;
  buffer->getBuffer().split(lines, '\n');
  int status = 0;
  auto chunks = splitChunks(lines);
  for (auto [index, chunk] : llvm::enumerate(chunks)) {
    std::string text;
    for (size_t i = 0; i < lines.size(); ++i) {
      if (i >= chunk.first && i < chunk.second)
        text += lines[i].str();
      if (i + 1 < lines.size())
        text += '\n';
    }
    if (index)
      llvm::outs() << "# -----\n";
    llvm::outs().flush();
    status |= runBuffer(options, llvm::MemoryBuffer::getMemBufferCopy(text, options.input),
                        consume, needModule);
  }
  return status;
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
        return dlc::checkModelFitsMemory(module, dlc::rt::hostMemoryBytes());
      },
      /*needModule=*/true);
}

/// The bundle options --target and --cuda-arch ask for; "" or a one-line
/// error. Checked before the frontend runs, so a missing NVRTC or an unknown
/// architecture fails at once. "cuda" implies "cpu": the op lists still run
/// on the CPU backend.
std::string bundleOptions(const Options &options, dlc::BundleOptions *out) {
  out->source = options.input;
  out->drawInitialValues = options.initialValues == "drawn";
  llvm::SmallVector<llvm::StringRef> targets;
  llvm::StringRef(options.targets).split(targets, ',');
  bool cuda = false;
  for (llvm::StringRef t : targets) {
    if (t != "cpu" && t != "cuda")
      return "unknown or not yet supported target '" + t.str() + "' (targets: cpu, cuda)";
    cuda |= t == "cuda";
  }
  out->targets = {"cpu"};
  if (cuda)
    out->targets.push_back("cuda");
  if (!options.cudaArchs.empty()) {
    if (!cuda)
      return "--cuda-arch needs --target cuda";
    out->cudaArchs.clear();
    for (const std::string &arch : options.cudaArchs)
      if (llvm::find(out->cudaArchs, arch) == out->cudaArchs.end())
        out->cudaArchs.push_back(arch);
  }
  return cuda ? dlc::checkCudaToolchain(out->cudaArchs) : "";
}

/// One line on what the NVRTC step did: how much came from the kernel cache.
void printCudaStats(const dlc::BundleOptions &bundle, const dlc::CudaCompileStats &stats) {
  llvm::errs() << "dlc: cuda: " << stats.kernels << " kernels for "
               << llvm::join(bundle.cudaArchs, ", ") << " with " << stats.compiler << " in "
               << llvm::format("%.2f", stats.seconds) << " s: " << stats.cacheHits << " of "
               << stats.images << " images from the kernel cache ("
               << (stats.cacheDirectory.empty() ? "disabled" : stats.cacheDirectory) << "), "
               << stats.images - stats.cacheHits << " compiled\n";
}

/// Lowers |module| to a bundle and writes it to options.output atomically.
LogicalResult emitBundle(const Options &options, const dlc::BundleOptions &bundle,
                         ModuleOp module) {
  std::vector<uint8_t> bytes;
  dlc::CudaCompileStats stats;
  if (failed(dlc::writeBundle(module, bundle, &bytes, &stats)))
    return failure();
  if (options.verbose && llvm::is_contained(bundle.targets, "cuda"))
    printCudaStats(bundle, stats);
  dlc::rt::Status status = dlc::rt::writeFileAtomically(options.output, {{bytes.data(), bytes.size()}});
  if (!status.ok()) {
    llvm::errs() << "dlc: error: " << status.message() << "\n";
    return failure();
  }
  return success();
}

int compile(Options options) {
  if (options.emit.empty())
    options.emit = options.output != "-" && !llvm::StringRef(options.output).ends_with(".mlir")
                       ? "bundle"
                       : "mlir";
  static const std::set<std::string> stages = {"ast",   "mlir",    "precision",
                                                "fused", "kernels", "bundle"};
  if (!stages.count(options.emit)) {
    llvm::errs() << "dlc: error: unknown --emit stage '" << options.emit
                 << "' (stages: ast, mlir, precision, fused, kernels, bundle)\n";
    return 1;
  }
  if (options.emit == "bundle" && options.output == "-") {
    llvm::errs() << "dlc: error: a bundle is binary: name the file with -o MODEL.dlcb\n";
    return 1;
  }
  dlc::BundleOptions bundle;
  if (options.emit == "bundle" || options.emit == "kernels")
    if (std::string error = bundleOptions(options, &bundle); !error.empty()) {
      llvm::errs() << "dlc: error: " << error << "\n";
      return 1;
    }
  int status = 0;
  int frontend = runFrontend(
      options,
      [&](const dlc::Program &program, ModuleOp module) {
        if (options.emit == "fused" || options.emit == "kernels" || options.emit == "bundle") {
          std::vector<std::string> targets;
          if (options.emit != "fused")
            targets = bundle.targets;
          if (failed(dlc::runKernelPipeline(module, dlc::compileBatchSize(module, options.batch),
                                            targets, options.precision, std::nullopt,
                                            options.kernels)))
            return failure();
        }
        if (options.emit == "precision") {
          if (failed(dlc::runPrecisionPipeline(module, dlc::compileBatchSize(module, options.batch),
                                               options.precision)))
            return failure();
          status = writeOutput(options, [&](llvm::raw_ostream &os) { dlc::printPrecisionReport(module, os); });
          return success(status == 0);
        }
        if (options.emit == "bundle")
          return emitBundle(options, bundle, module);
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
/// The bundle named by options.input: read from a .dlcb file, or compiled in
/// memory from a .dl file (at options.batch, or the setup's batch size).
int loadBundle(const Options &options, std::shared_ptr<const dlc::rt::Bundle> *out) {
  if (llvm::StringRef(options.input).ends_with(".dlcb")) {
    std::unique_ptr<dlc::rt::Bundle> bundle;
    dlc::rt::Status status = dlc::rt::Bundle::load(options.input, &bundle);
    if (!status.ok()) {
      llvm::errs() << "dlc: error: " << status.message() << "\n";
      return 1;
    }
    *out = std::move(bundle);
    return 0;
  }
  return runFrontend(
      options,
      [&](const dlc::Program &, ModuleOp module) -> LogicalResult {
        dlc::BundleOptions bundleOptions;
        bundleOptions.source = options.input;
        if (options.runtime.backend != "cpu") // resolved: cuda or cuda-sim
          bundleOptions.targets = {"cpu", "cuda"};
        if (options.runtime.backend == "cuda-sim") // it compiles the source itself
          bundleOptions.cudaArchs.clear();
        if (failed(dlc::runKernelPipeline(module, dlc::compileBatchSize(module, options.batch),
                                          bundleOptions.targets, options.precision, std::nullopt,
                                          options.kernels)))
          return failure();
        std::vector<uint8_t> bytes;
        if (failed(dlc::writeBundle(module, bundleOptions, &bytes)))
          return failure();
        std::unique_ptr<dlc::rt::Bundle> bundle;
        dlc::rt::Status status = dlc::rt::Bundle::fromBytes(std::move(bytes), options.input, &bundle);
        if (!status.ok()) {
          llvm::errs() << "dlc: error: " << status.message() << "\n";
          return failure();
        }
        *out = std::move(bundle);
        return success();
      },
      /*needModule=*/true);
}

int grad(const Options &options) {
  return runFrontend(
      options,
      [&](const dlc::Program &, ModuleOp module) {
        std::string error = dlc::runGrad(module, options.grad);
        if (error.empty())
          return success();
        llvm::errs() << "dlc: error: " << error << "\n";
        return failure();
      },
      /*needModule=*/true);
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
    command->add_flag("--split-input-file", options.splitInputFile,
                      "treat each part between `# -----` lines as its own file (for tests)");
  };
  CLI::App *checkCommand = app.add_subcommand("check", "print the model summary and training setup");
  addCommon(checkCommand);
  CLI::App *compileCommand = app.add_subcommand("compile", "compile a model");
  addCommon(compileCommand);
  compileCommand->add_option("--emit", options.emit,
                             "stage: ast, mlir, precision, fused, kernels, bundle (default: bundle with -o FILE, else mlir)");
  compileCommand->add_option("-o", options.output, "output file (- for stdout)");
  compileCommand
      ->add_option("--target", options.targets,
                   "bundle targets, comma-separated: cpu, cuda (adds each kernel's CUDA code, "
                   "compiled with NVRTC; the CPU code is always there)")
      ->capture_default_str();
  compileCommand
      ->add_option("--cuda-arch", options.cudaArchs,
                   "GPU architectures for --target cuda, comma-separated (default: sm_80,sm_90)")
      ->delimiter(',');
  compileCommand->add_flag("-v,--verbose", options.verbose,
                           "say what NVRTC compiled and what came from the kernel cache");
  compileCommand->add_option("--batch", options.batch,
                             "batch size to compile for (default: the training setup's)")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 24));
  compileCommand->add_flag("--debug-info", options.debugInfo, "print source locations in the IR");
  const std::vector<const char *> policyWords = dlc::dl::precisionPolicies();
  const std::vector<std::string> policies(policyWords.begin(), policyWords.end());
  auto addPrecision = [&](CLI::App *command, std::string *into) {
    command->add_option("--precision", *into,
                        "precision policy, overriding the training setup's: fp32, mixed_fp16, "
                        "mixed_bf16 or tf32 (f32 values, matrix products on TF32 tensor cores)")
        ->check(CLI::IsMember(policies));
  };
  addPrecision(compileCommand, &options.precision);
  auto addKernelChoices = [&](CLI::App *command, dlc::KernelChoices *into) {
    command->add_flag("--deterministic", into->deterministic,
                      "sum in an order fixed at compile time (no float atomics): GPU runs and "
                      "--resume give the same bits, at some cost in speed");
    command
        ->add_option("--kernels", into->kernels,
                     "CUDA kernels: generated (dlc's own), library (cuBLASLt where it runs a "
                     "product, cuDNN where it runs a convolution or an LSTM) or auto (either where the cost "
                     "model prefers it)")
        ->check(CLI::IsMember({"generated", "library", "auto"}))
        ->capture_default_str();
  };
  addKernelChoices(compileCommand, &options.kernels);
  compileCommand
      ->add_option("--initial-values", options.initialValues,
                   "embedded (the parameters' initial values in the bundle) or drawn (those an "
                   "initializer draws are drawn again, the same, when the bundle loads: a small "
                   "bundle, for loading a checkpoint or measuring speed)")
      ->check(CLI::IsMember({"embedded", "drawn"}))
      ->capture_default_str();

  CLI::App *gradCommand =
      app.add_subcommand("grad", "write the loss and parameter gradients of one batch");
  addCommon(gradCommand);
  gradCommand->add_option("--weights", options.grad.weights, "safetensors with every parameter")
      ->required();
  gradCommand->add_option("--batch", options.grad.batch,
                          "safetensors with the inputs by name and `labels`")
      ->required();
  gradCommand->add_option("--out", options.grad.out, "safetensors to write")->required();
  gradCommand->add_option("--backend", options.grad.backend,
                          "executor: ref (float64 reference), cpu, cuda or cuda-sim")
      ->capture_default_str();
  gradCommand->add_option("--step-out", options.grad.stepOut,
                          "also take one training step from the same parameters and write "
                          "every parameter and optimizer slot after it here");
  gradCommand->add_option("--eval-out", options.grad.evalOut,
                          "also run the evaluate program on the batch and write each example's loss and metric scores here");
  gradCommand->add_option("--step", options.grad.step,
                          "the training step's number: its dropout masks, for the gradients and --step-out")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  gradCommand->add_option("--rounding-probe", options.grad.roundingProbe,
                          "ref only: move every intermediate by up to one float32 rounding "
                          "(seeded by this number; seeds S and S^1 move them in opposite directions), "
                          "to measure how much the model amplifies float32 rounding");
  addPrecision(gradCommand, &options.grad.precision);
  addKernelChoices(gradCommand, &options.grad.kernels);

  dlc::RuntimeCommandSet runtimeCommands = dlc::addRuntimeCommands(
      app, options.input, "the .dl or .dlcb file", options.runtime, [&](CLI::App *command) {
        command->add_option("--model", options.model, "which model of the .dl file");
        command->add_option("--batch", options.batch, "batch size to compile a .dl file for")
            ->check(CLI::Range(int64_t(1), int64_t(1) << 24));
        addPrecision(command, &options.precision);
        addKernelChoices(command, &options.kernels);
      });

  CLI::App *catalogCommand = app.add_subcommand(
      "catalog", "list the layers, losses, optimizers, metrics, data transforms, ops and kernel families");
  catalogCommand->add_flag("--json", options.json, "print JSON, with every option's type, default and range");

  dlc::InspectOptions inspectOptions;
  CLI::App *inspectCommand = dlc::addInspectCommand(app, inspectOptions);

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success &success) {
    return app.exit(success);
  } catch (const CLI::ParseError &error) {
    llvm::errs() << "dlc: error: " << error.what() << "\n"
                 << "run 'dlc --help' for usage\n";
    return 1;
  }
  if (*checkCommand)
    return check(options);
  if (*gradCommand)
    return grad(options);
  if (*inspectCommand)
    return dlc::inspectBundle(inspectOptions);
  if (*catalogCommand)
    return dlc::printCatalog(options.json);
  if (int status = dlc::runRuntimeCommand(
          runtimeCommands, options.runtime,
          [&](std::shared_ptr<const dlc::rt::Bundle> *bundle) { return loadBundle(options, bundle); });
      status >= 0)
    return status;
  return compile(options);
}
