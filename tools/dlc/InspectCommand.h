//===- InspectCommand.h - `dlc inspect`: what a bundle holds --------------===//
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace dlc {

struct InspectOptions {
  std::string bundle;
  bool json = false;
  /// Under each kernel a line per op: its operand and result element types
  /// and why it runs in them (dlc-select-precision's record).
  bool precision = false;
  /// A GPU of runtime/roofline.h: each program's predicted time on it, per
  /// kernel, in place of the kernel list.
  std::string device;
};

/// The `inspect` subcommand of |app|, filling |options|.
CLI::App *addInspectCommand(CLI::App &app, InspectOptions &options);

/// Prints the programs, kernels (name, target, fused ops), buffers and sizes
/// of the bundle, as text or JSON. Returns the exit status.
int inspectBundle(const InspectOptions &options);

} // namespace dlc
