//===- RuntimeCommands.h - `dlc train|eval|run|bench` ---------------------===//
//
// The commands that execute a bundle on a runtime device. They take the
// bundle already loaded (from a .dlcb file, or compiled in memory from a .dl
// file by the driver) and only use the MLIR-free runtime API.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/bundle.h"
#include "runtime/device.h"
#include "runtime/session.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace CLI {
class App;
} // namespace CLI

namespace dlc {

struct RuntimeOptions {
  /// cpu, cuda, cuda-sim, or auto (cuda when a GPU answers, else cpu);
  /// resolveBackend replaces auto by the choice.
  std::string backend = "auto";
  bool backendIsAuto = false;
  /// cuda-sim: run the CUDA code of a bundle this machine did not compile.
  bool trustBundleCode = false;
  /// Check every kernel's outputs for NaN and infinity (RunOptions).
  bool checkNumerics = false;
  // train / eval
  std::string data;
  int64_t epochs = 0, steps = 0;
  uint64_t seed = 0;
  std::string log, checkpoint;
  bool resume = false;
  int64_t checkpointEvery = 500;
  int64_t logEverySteps = 0; // 0: one log line per epoch only
  // run
  std::string input, output;
  // bench
  std::string mode = "train";
  int64_t warmup = 5;
  bool json = false;
  bool profile = false;
  // grad (dlc-rt)
  std::string weights, batch, out;
  std::string stepOut; // also one train_step from the same parameters
  std::string evalOut; // also the evaluate program's outputs
  int64_t step = 0;
};

/// Checks options->backend and decides `auto`: cuda when
/// CudaContext::probe() succeeds, else cpu, saying so in one line on stderr.
/// --backend cuda without a GPU is an error naming what is missing. Returns
/// false after printing an error. Call it before compiling a .dl file: the
/// cuda backends need a bundle with CUDA code.
bool resolveBackend(RuntimeOptions *options);
/// The device a resolved backend names (cpu, cuda, cuda-sim); cuda-sim runs
/// the code of bundles not compiled here only when |trustBundleCode|.
rt::Status createDevice(const std::string &backend, bool trustBundleCode,
                        std::unique_ptr<rt::Device> *out);

/// The train/eval/run/bench subcommands as both command-line tools offer
/// them: `dlc` (a .dl or .dlcb file) and `dlc-rt` (bundles only, no MLIR).
struct RuntimeCommandSet {
  CLI::App *train = nullptr, *eval = nullptr, *run = nullptr, *bench = nullptr,
           *exportWeights = nullptr;
};
/// Adds the subcommands (train, eval, run, bench, export) to |app|, each with a positional model file
/// (into |input|, described by |inputHelp|), --backend and its own options;
/// |addModelOptions| adds what compiling a .dl file needs (--model, --batch).
RuntimeCommandSet addRuntimeCommands(CLI::App &app, std::string &input, const std::string &inputHelp,
                                     RuntimeOptions &options,
                                     const std::function<void(CLI::App *)> &addModelOptions = {});
using BundleLoader = std::function<int(std::shared_ptr<const rt::Bundle> *)>;
/// Runs the subcommand of |commands| that was parsed: decides the backend,
/// then |load|s the bundle (after the backend: a .dl file compiles for it)
/// and runs. Returns -1 when none of them was parsed.
int runRuntimeCommand(const RuntimeCommandSet &commands, RuntimeOptions &options,
                      const BundleLoader &load);

/// `dlc-rt grad`: the `dlc grad` contract on a bundle's grad program (the
/// batch must have the size the bundle was compiled for).
CLI::App *addGradCommand(CLI::App &app, std::string &input, RuntimeOptions &options);
int gradCommand(std::shared_ptr<const rt::Bundle> bundle, const RuntimeOptions &options);

int trainCommand(std::shared_ptr<const rt::Bundle> bundle, const RuntimeOptions &options);
int evalCommand(std::shared_ptr<const rt::Bundle> bundle, const RuntimeOptions &options);
int runCommand(std::shared_ptr<const rt::Bundle> bundle, const RuntimeOptions &options);
int benchCommand(std::shared_ptr<const rt::Bundle> bundle, const RuntimeOptions &options);
int exportCommand(std::shared_ptr<const rt::Bundle> bundle, const RuntimeOptions &options);

/// Shared by the commands' files: prints |status| as `dlc: error: ...` and
/// returns 1; opens a session of |bundle| on the backend |options| name.
int fail(const rt::Status &status);
int openSession(std::shared_ptr<const rt::Bundle> bundle, const RuntimeOptions &options,
                std::unique_ptr<rt::Session> *session);

} // namespace dlc
