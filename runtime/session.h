//===- session.h - The runtime API: load, run, train, checkpoint ----------===//
//
// A Session owns a bundle's parameters on one device and runs its programs:
// "infer" (predictions), "grad" (loss and gradients) and "train_step" (one
// optimizer step, parameters updated in place). Thread-compatible: one
// thread at a time.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/bundle.h"
#include "runtime/class_ids.h"
#include "runtime/device.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace dlc::rt {

struct TensorSpec {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
};

class Session {
public:
  /// Loads parameters (embedded initial values, or the pretrained files the
  /// bundle refers to, resolved against |bundle|'s directory) onto |device|.
  static Status create(std::shared_ptr<const Bundle> bundle, std::unique_ptr<Device> device,
                       std::unique_ptr<Session> *out);

  const Bundle &bundle() const { return *bundle_; }
  const Device &device() const { return *device_; }
  bool hasProgram(const std::string &name) const { return bundle_->program(name) != nullptr; }
  /// The inputs / outputs of program |name| in signature order.
  std::vector<TensorSpec> inputs(const std::string &name) const;
  std::vector<TensorSpec> outputs(const std::string &name) const;

  /// Runs program |name|. Input shapes and types must match exactly.
  Status run(const std::string &name, const std::vector<TensorView> &inputs,
             std::vector<TensorView> *outputs, const RunOptions &options = {});
  /// A run in three parts, so that the next inputs go up while a run
  /// computes: stage() takes the inputs of |name|'s next run (copied: the
  /// caller may reuse its buffers when it returns; checked as run() checks
  /// them), start() starts that run and may return before it ends, finish()
  /// waits for it. stage() may come between start() and finish():
  ///   stage(a); start(); stage(b); finish(&out); start(); finish(&out);
  Status stage(const std::string &name, const std::vector<TensorView> &inputs);
  Status start(const std::string &name, const RunOptions &options = {});
  Status finish(const std::string &name, std::vector<TensorView> *outputs);

  /// The host copy of every parameter and optimizer slot. On a device with
  /// its own memory (CUDA) a program that updates parameters (train_step)
  /// leaves this copy behind: call syncParametersToHost() before reading it,
  /// and parametersChanged() after writing it so that the next run uploads
  /// it. On the CPU both calls cost nothing.
  std::vector<Parameter> &parameters() { return parameters_; }
  Parameter *parameter(const std::string &name);
  /// Copies the parameters from the device if a run updated them there
  /// since the last sync (one copy per update, not per call).
  Status syncParametersToHost();
  /// Marks the host copy as the newer one. kInvalidArgument, and nothing
  /// marked, while the device holds updates the host copy has not seen (the
  /// edit was made to stale values: sync first).
  Status parametersChanged();
  /// Per-kernel times of program |name| over its profiled runs.
  std::vector<KernelTime> kernelTimes(const std::string &name) const;
  /// How program |name|'s runs were executed so far.
  ExecutionCounts executionCounts(const std::string &name) const;
  /// How the device chose between each kernel's two executions (a
  /// --kernels auto bundle on CUDA), after the first run of |name|.
  std::vector<KernelChoiceReport> kernelChoices(const std::string &name) const;
  /// Peak arena bytes of every prepared program plus parameter bytes.
  uint64_t memoryBytes() const;

  /// Writes every parameter and optimizer slot with |metadata| to |path|
  /// atomically (safetensors), syncing them to the host first.
  Status saveCheckpoint(const std::string &path,
                        const std::map<std::string, std::string> &metadata);
  /// Restores what saveCheckpoint wrote; every parameter must be present with
  /// its shape. The next run uploads them.
  Status loadCheckpoint(const std::string &path, std::map<std::string, std::string> *metadata);

private:
  Status prepared(const std::string &name, PreparedProgram **out);
  /// Whether |program| writes parameter storage (an optimizer step).
  bool updatesParameters(const fb::Program &program) const;

  std::shared_ptr<const Bundle> bundle_;
  std::unique_ptr<Device> device_;
  std::vector<Parameter> parameters_;
  std::map<std::string, std::unique_ptr<PreparedProgram>> programs_;
  std::map<std::string, std::vector<TensorSpec>> inputSpecs_; // of prepared programs
  std::map<std::string, std::vector<ClassIdInput>> classIdInputs_; // checked per run
  std::map<std::string, bool> updates_;                        // updatesParameters, per program
  // Which copy of the parameters is newer (runtime/device.h); at most one.
  bool hostNewer_ = true;    // the device has not seen the host's values yet
  bool deviceNewer_ = false; // a run updated parameters the host has not seen
};

} // namespace dlc::rt
