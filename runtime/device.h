//===- device.h - What a backend implements --------------------------------===//
//
// A device turns a verified program into something runnable once (kernel
// preparation, arena allocation) and then runs it many times. The CPU backend
// (runtime/cpu/) implements it now; the CUDA backend plugs in the same way.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/bundle.h"
#include "runtime/status.h"
#include "runtime/tensor.h"

#include <memory>
#include <string>
#include <vector>

namespace dlc::rt {

/// Storage of every parameter and optimizer slot of a bundle, shared by all
/// programs of a session (a training step updates what inference reads).
struct Parameter {
  std::string name;
  std::vector<int64_t> shape;
  bool trainable = false;
  std::string slotOf; // non-empty for optimizer state
  std::vector<float> data;

  TensorView view() { return TensorView{data.data(), DType::kF32, shape}; }
};

struct RunOptions {
  /// The training step: dropout masks are drawn from (seed, step).
  uint64_t step = 0;
  /// Accumulate each kernel's time (PreparedProgram::kernelTimes).
  bool profile = false;
};

struct KernelTime {
  std::string kernel;
  double seconds = 0;
  int64_t runs = 0;
};

class PreparedProgram {
public:
  virtual ~PreparedProgram() = default;
  /// Copies |inputs| (in the program's signature order, shapes checked by the
  /// session) in, runs every kernel, and points |outputs| at the results,
  /// which stay valid until the next run.
  virtual Status run(const std::vector<TensorView> &inputs, const RunOptions &options,
                     std::vector<TensorView> *outputs) = 0;
  /// Bytes of the program's arena (the memory plan's peak).
  virtual uint64_t arenaBytes() const = 0;
  /// Time per kernel over the runs made with RunOptions::profile.
  virtual std::vector<KernelTime> kernelTimes() const = 0;
};

class Device {
public:
  virtual ~Device() = default;
  virtual std::string name() const = 0;
  virtual Status prepare(const fb::Program &program, std::vector<Parameter> &parameters,
                         std::unique_ptr<PreparedProgram> *out) = 0;
};

/// The CPU device (multi-threaded with OpenMP; oneDNN for convolutions and
/// matrix products).
std::unique_ptr<Device> createCpuDevice();

} // namespace dlc::rt
