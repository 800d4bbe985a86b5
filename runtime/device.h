//===- device.h - What a backend implements --------------------------------===//
//
// A device turns a verified program into something runnable once (kernel
// preparation, arena allocation) and then runs it many times. Backends: the
// CPU (runtime/cpu/), CUDA on a GPU and CUDA emulated on the CPU
// (runtime/cuda/cuda_device.h, runtime/cuda_sim/sim_module.h).
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
/// A parameter's host storage: typed bytes, of the bundle's dtype (the
/// loader admits f32 only until mixed precision stores others).
struct Parameter {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  bool trainable = false;
  std::string slotOf; // non-empty for optimizer state
  std::vector<uint8_t> bytes; // numElements(shape) * dtypeSize(dtype)

  TensorView view() { return TensorView{bytes.data(), dtype, shape}; }
};

struct RunOptions {
  /// The training step: dropout masks are drawn from (seed, step).
  uint64_t step = 0;
  /// Accumulate each kernel's time (PreparedProgram::kernelTimes): on a GPU
  /// the device's, by CUDA events, each kernel waited for before the next.
  bool profile = false;
  /// After each kernel, check the float buffers it wrote and fail at the
  /// first NaN or infinity, naming the kernel (runtime/numerics.h).
  bool checkNumerics = false;
};

struct KernelTime {
  std::string kernel;
  double seconds = 0;
  int64_t runs = 0;
};

/// How a program's runs were executed.
struct ExecutionCounts {
  int64_t issued = 0;   // command by command from the host
  int64_t replayed = 0; // as one captured graph (a GPU's)
};

/// How a device chose between the two executions of a kernel of a
/// --kernels auto bundle (runtime/cuda/kernel_choice.h).
struct KernelChoiceReport {
  std::string kernel;
  std::string runs; // the execution it kept: "library call cublas matmul", "generated gemm"
  /// "the compiler's", "the alternative (DLC_KERNEL_CHOICE)", "measured",
  /// "cached", or why it was not measured.
  std::string how;
  double compiledSeconds = 0, alternativeSeconds = 0; // measured or cached, per run
};

class PreparedProgram {
public:
  virtual ~PreparedProgram() = default;
  /// Takes the inputs of the next run (in the program's signature order,
  /// shapes checked by the session). They are copied: the caller may reuse
  /// its buffers when this returns. A device with its own memory starts
  /// uploading them at once, beside a run in progress.
  virtual Status stage(const std::vector<TensorView> &inputs) = 0;
  /// Starts a run on the staged inputs; it may go on after this returns.
  virtual Status start(const RunOptions &options) = 0;
  /// Waits for the started run and points |outputs| at its results, which
  /// stay valid until the next start().
  virtual Status finish(std::vector<TensorView> *outputs) = 0;
  /// One run: stage, start, finish.
  Status run(const std::vector<TensorView> &inputs, const RunOptions &options,
             std::vector<TensorView> *outputs) {
    DLC_RETURN_IF_ERROR(stage(inputs), "");
    DLC_RETURN_IF_ERROR(start(options), "");
    return finish(outputs);
  }
  /// Bytes of the program's arena (the memory plan's peak).
  virtual uint64_t arenaBytes() const = 0;
  /// Time per kernel over the runs made with RunOptions::profile.
  virtual std::vector<KernelTime> kernelTimes() const = 0;
  virtual ExecutionCounts executionCounts() const = 0;
  /// Each kernel with two executions, once the first run has chosen.
  virtual std::vector<KernelChoiceReport> kernelChoices() const { return {}; }
};

/// Parameters have one host copy, Parameter::data, which the session hands
/// out and checkpoints. A device that keeps them in its own memory (a GPU)
/// holds a second copy, allocated once in attach() and shared by all its
/// programs, and copies between the two only when the session asks: it
/// uploads before a run when the host copy changed (the first run, a
/// checkpoint load, user edits) and downloads before the host copy is read
/// after a program updated parameters (train_step). The CPU device runs on
/// the host copy itself: there both are no-ops.
class Device {
public:
  virtual ~Device() = default;
  virtual std::string name() const = 0;
  /// Called once by Session::create, before any prepare(): the bundle whose
  /// programs this device will run (it outlives the device) and the
  /// session's parameters, whose device storage is allocated here.
  virtual Status attach(const Bundle &bundle, std::vector<Parameter> &parameters) = 0;
  virtual Status prepare(const fb::Program &program, std::vector<Parameter> &parameters,
                         std::unique_ptr<PreparedProgram> *out) = 0;
  /// Host copy -> device copy of every parameter.
  virtual Status uploadParameters(const std::vector<Parameter> &parameters) = 0;
  /// Device copy -> host copy of every parameter.
  virtual Status downloadParameters(std::vector<Parameter> &parameters) = 0;
};

/// The CPU device (multi-threaded with OpenMP; oneDNN for convolutions and
/// matrix products).
std::unique_ptr<Device> createCpuDevice();

} // namespace dlc::rt
