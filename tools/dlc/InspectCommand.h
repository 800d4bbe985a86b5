//===- InspectCommand.h - `dlc inspect`: what a bundle holds --------------===//
#pragma once

#include <string>

namespace dlc {

/// Prints the programs, kernels (name, target, fused ops), buffers and sizes
/// of the bundle at |path|, as text or JSON. Returns the exit status.
int inspectBundle(const std::string &path, bool json);

} // namespace dlc
