//===- dlc_rt.cpp - dlc-rt: run bundles without the compiler ---------------===//
//
// The bundle commands of `dlc` (train, eval, run, bench, grad, inspect) in a binary
// that links only the runtime: no MLIR or LLVM, so it can be carried to a
// GPU machine or shipped with an application. Bundles come from
// `dlc compile M.dl [--target cuda] -o M.dlcb`.
//
//===----------------------------------------------------------------------===//
#include "tools/dlc/InspectCommand.h"
#include "tools/dlc/RuntimeCommands.h"

#include <CLI/CLI.hpp>

#include <cstdio>

int main(int argc, char **argv) {
  CLI::App app{"dlc-rt: train, evaluate, run, time and differentiate dlc bundles (.dlcb) without the compiler"};
  app.require_subcommand(1);
  std::string input;
  dlc::RuntimeOptions options;
  dlc::RuntimeCommandSet commands =
      dlc::addRuntimeCommands(app, input, "the .dlcb file (dlc compile -o)", options);
  CLI::App *grad = dlc::addGradCommand(app, input, options);
  dlc::InspectOptions inspectOptions;
  CLI::App *inspect = dlc::addInspectCommand(app, inspectOptions);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success &success) {
    return app.exit(success);
  } catch (const CLI::ParseError &error) {
    std::fprintf(stderr, "dlc-rt: error: %s\nrun 'dlc-rt --help' for usage\n", error.what());
    return 1;
  }
  if (*inspect)
    return dlc::inspectBundle(inspectOptions);
  auto load = [&](std::shared_ptr<const dlc::rt::Bundle> *out) {
    std::unique_ptr<dlc::rt::Bundle> bundle;
    dlc::rt::Status status = dlc::rt::Bundle::load(input, &bundle);
    if (!status.ok()) {
      std::fprintf(stderr, "dlc-rt: error: %s\n", status.message().c_str());
      return 1;
    }
    *out = std::move(bundle);
    return 0;
  };
  if (*grad) {
    std::shared_ptr<const dlc::rt::Bundle> bundle;
    if (!dlc::resolveBackend(&options))
      return 1;
    if (int status = load(&bundle))
      return status;
    return dlc::gradCommand(bundle, options);
  }
  return dlc::runRuntimeCommand(commands, options, load);
}
