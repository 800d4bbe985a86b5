//===- InspectCommand.h - `dlc inspect`: what a bundle holds --------------===//
#pragma once

#include <string>

namespace dlc {

/// Prints the programs, kernels (name, target, fused ops), buffers and sizes
/// of the bundle at |path|, as text or JSON; with |precision|, under each
/// kernel a line per op: its operand and result element types and why it
/// runs in them (dlc-select-precision's record). Returns the exit status.
int inspectBundle(const std::string &path, bool json, bool precision = false);

} // namespace dlc
