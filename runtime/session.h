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

  std::vector<Parameter> &parameters() { return parameters_; }
  Parameter *parameter(const std::string &name);
  /// Per-kernel times of program |name| over its profiled runs.
  std::vector<KernelTime> kernelTimes(const std::string &name) const;
  /// Peak arena bytes of every prepared program plus parameter bytes.
  uint64_t memoryBytes() const;

  /// Writes every parameter and optimizer slot with |metadata| to |path|
  /// atomically (safetensors).
  Status saveCheckpoint(const std::string &path,
                        const std::map<std::string, std::string> &metadata) const;
  /// Restores what saveCheckpoint wrote; every parameter must be present with
  /// its shape.
  Status loadCheckpoint(const std::string &path, std::map<std::string, std::string> *metadata);

private:
  Status prepared(const std::string &name, PreparedProgram **out);

  std::shared_ptr<const Bundle> bundle_;
  std::unique_ptr<Device> device_;
  std::vector<Parameter> parameters_;
  std::map<std::string, std::unique_ptr<PreparedProgram>> programs_;
  std::map<std::string, std::vector<TensorSpec>> inputSpecs_; // of prepared programs
};

} // namespace dlc::rt
