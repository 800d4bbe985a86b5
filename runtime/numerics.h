//===- numerics.h - Finding the first kernel that made a NaN or infinity --===//
//
// --check-numerics (RunOptions::checkNumerics): after each kernel, every
// device checks the float buffers that kernel's ops wrote and stops at the
// first non-finite element, naming the kernel, its .dl location, the buffer
// and the element. Divergence is then traced to its origin instead of to
// the loss many kernels later.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/schemas/bundle_generated.h"
#include "runtime/status.h"
#include "runtime/tensor.h"

#include <cstdint>
#include <vector>

namespace dlc::rt {

/// The stored float buffers the ops of |kernel| write, each once.
std::vector<uint32_t> floatBuffersWritten(const fb::Program &program, const fb::Kernel &kernel);

/// okStatus, or the error naming |kernel| when buffer |index| of |program|,
/// whose bytes are at |data|, holds a NaN or an infinity.
Status checkFinite(const fb::Program &program, const fb::Kernel &kernel, uint32_t index,
                   const void *data);

} // namespace dlc::rt
