//===- session.cc - The runtime API: load, run, train, checkpoint ---------===//
#include "runtime/session.h"

#include "runtime/class_ids.h"
#include "runtime/float16.h"
#include "runtime/initializers.h"
#include "runtime/pretrained_weights.h"
#include "runtime/safetensors.h"

#include <cstring>

namespace dlc::rt {
namespace {

/// Reads |t| (its shape already checked) into |p|'s storage: f32 storage
/// takes any float type the file has (readFloat32 converts), other storage
/// its own dtype's bytes.
Status readInto(const SafetensorsTensor &t, Parameter *p) {
  if (p->dtype == DType::kF32) {
    std::vector<float> values;
    DLC_RETURN_IF_ERROR(readFloat32(t, &values), "");
    std::memcpy(p->bytes.data(), values.data(), values.size() * sizeof(float));
    return okStatus();
  }
  if (t.dtype != p->dtype || t.nbytes != p->bytes.size())
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           "tensor '" + p->name + "' is " + dtypeName(t.dtype) + ", the model stores " +
                               dtypeName(p->dtype));
  std::memcpy(p->bytes.data(), t.data, t.nbytes);
  return okStatus();
}

std::vector<int64_t> toVector(const flatbuffers::Vector<int64_t> *v) {
  return std::vector<int64_t>(v->begin(), v->end());
}

std::string directoryOf(const std::string &path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash + 1);
}

/// Where a parameter's pretrained file is: as recorded, relative to the
/// bundle's directory.
std::string externalPath(const Bundle &bundle, const fb::Parameter &p) {
  std::string file = p.external_file()->str();
  if (!file.empty() && file[0] != '/')
    file = directoryOf(bundle.origin()) + file;
  return file;
}

std::vector<TensorSpec> signature(const fb::Program *p, bool inputs) {
  std::vector<TensorSpec> out;
  if (!p)
    return out;
  auto indices = inputs ? p->inputs() : p->outputs();
  auto names = inputs ? p->input_names() : p->output_names();
  for (size_t i = 0; indices && i < indices->size(); ++i) {
    const fb::Buffer *b = p->buffers()->Get(indices->Get(i));
    out.push_back({names->Get(i)->str(), fromFbDType(b->dtype()), toVector(b->shape())});
  }
  return out;
}

} // namespace

Status Session::create(std::shared_ptr<const Bundle> bundle, std::unique_ptr<Device> device,
                       std::unique_ptr<Session> *out) {
  auto session = std::unique_ptr<Session>(new Session());
  session->bundle_ = bundle;
  session->device_ = std::move(device);
  std::vector<PretrainedWeights::Param> external;
  for (const fb::Parameter *p : *bundle->root().parameters())
    if (p->external_file() && p->external_file()->size())
      external.push_back({p->name()->str(), externalPath(*bundle, *p),
                          p->layer_class() ? p->layer_class()->str() : "",
                          p->weights_layout() ? p->weights_layout()->str() : "", p->image_rows() ? toVector(p->image_rows()) : std::vector<int64_t>()});
  PretrainedWeights pretrained(external);
  for (const fb::Parameter *p : *bundle->root().parameters()) {
    Parameter param;
    param.name = p->name()->str();
    param.shape = toVector(p->shape());
    param.trainable = p->trainable();
    param.slotOf = p->slot_of() ? p->slot_of()->str() : "";
    param.dtype = fromFbDType(p->dtype());
    param.bytes.resize(size_t(numElements(param.shape)) * dtypeSize(param.dtype));
    if (p->external_file() && p->external_file()->size()) {
      const std::string file = externalPath(*bundle, *p);
      std::vector<float> values;
      DLC_RETURN_IF_ERROR(pretrained.read(file, param.name, param.shape, &values),
                          "loading pretrained weights for '" + param.name + "'");
      for (size_t i = 0; i < values.size(); ++i)
        storeElement(param.dtype, param.bytes.data(), int64_t(i), values[i]);
    } else if (p->drawn_at_load()) {
      std::vector<float> values(size_t(numElements(param.shape)));
      DLC_RETURN_IF_ERROR(initializeParameter(p->initializer() ? p->initializer()->str() : "", param.shape,
                                              p->seed(), values.data()),
                          "drawing the initial value of '" + param.name + "'");
      for (size_t i = 0; i < values.size(); ++i)
        storeElement(param.dtype, param.bytes.data(), int64_t(i), values[i]);
    } else {
      std::memcpy(param.bytes.data(), bundle->payload() + p->data_offset(), p->data_bytes());
    }
    session->parameters_.push_back(std::move(param));
  }
  DLC_RETURN_IF_ERROR(pretrained.checkAllUsed(), "loading pretrained weights");
  DLC_RETURN_IF_ERROR(session->device_->attach(*session->bundle_, session->parameters_),
                      "attaching " + bundle->origin() + " to " + session->device_->name());
  *out = std::move(session);
  return okStatus();
}

std::vector<TensorSpec> Session::inputs(const std::string &name) const {
  return signature(bundle_->program(name), true);
}
std::vector<TensorSpec> Session::outputs(const std::string &name) const {
  return signature(bundle_->program(name), false);
}

Parameter *Session::parameter(const std::string &name) {
  for (Parameter &p : parameters_)
    if (p.name == name)
      return &p;
  return nullptr;
}

Status Session::prepared(const std::string &name, PreparedProgram **out) {
  auto it = programs_.find(name);
  if (it == programs_.end()) {
    const fb::Program *program = bundle_->program(name);
    if (!program)
      return DLC_MAKE_STATUS(StatusCode::kNotFound, bundle_->origin() + " has no program '" +
                                                        name + "'");
    std::unique_ptr<PreparedProgram> p;
    DLC_RETURN_IF_ERROR(device_->prepare(*program, parameters_, &p),
                        "preparing program '" + name + "' on " + device_->name());
    it = programs_.emplace(name, std::move(p)).first;
    inputSpecs_[name] = inputs(name);
    classIdInputs_[name] = classIdInputs(*program);
    updates_[name] = updatesParameters(*program);
  }
  *out = it->second.get();
  return okStatus();
}

Status Session::run(const std::string &name, const std::vector<TensorView> &inputs,
                    std::vector<TensorView> *outputs, const RunOptions &options) {
  DLC_RETURN_IF_ERROR(stage(name, inputs), "");
  DLC_RETURN_IF_ERROR(start(name, options), "");
  return finish(name, outputs);
}

Status Session::stage(const std::string &name, const std::vector<TensorView> &inputs) {
  PreparedProgram *program;
  DLC_RETURN_IF_ERROR(prepared(name, &program), "");
  const std::vector<TensorSpec> &specs = inputSpecs_[name];
  if (inputs.size() != specs.size())
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           "program '" + name + "' takes " + std::to_string(specs.size()) +
                               " inputs, got " + std::to_string(inputs.size()));
  for (size_t i = 0; i < specs.size(); ++i)
    if (inputs[i].dtype != specs[i].dtype || inputs[i].shape != specs[i].shape)
      return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                             "input '" + specs[i].name + "' of '" + name + "' must be " +
                                 dtypeName(specs[i].dtype) + shapeString(specs[i].shape) + ", got " +
                                 dtypeName(inputs[i].dtype) + shapeString(inputs[i].shape));
  for (const ClassIdInput &c : classIdInputs_[name])
    DLC_RETURN_IF_ERROR(checkClassIds(inputs[c.input].data, inputs[c.input].dtype,
                                      inputs[c.input].numel(), c.classes,
                                      "input '" + specs[c.input].name + "' of '" + name + "'"),
                        "");
  return program->stage(inputs);
}

Status Session::start(const std::string &name, const RunOptions &options) {
  PreparedProgram *program;
  DLC_RETURN_IF_ERROR(prepared(name, &program), "");
  if (hostNewer_) {
    DLC_RETURN_IF_ERROR(device_->uploadParameters(parameters_),
                        "uploading parameters to " + device_->name());
    hostNewer_ = false;
  }
  // Even a failed run may have updated some parameters on the device.
  if (updates_[name])
    deviceNewer_ = true;
  return program->start(options);
}

Status Session::finish(const std::string &name, std::vector<TensorView> *outputs) {
  PreparedProgram *program;
  DLC_RETURN_IF_ERROR(prepared(name, &program), "");
  return program->finish(outputs);
}

bool Session::updatesParameters(const fb::Program &program) const {
  const auto &buffers = *program.buffers();
  auto rootOf = [&](uint32_t i) {
    for (int hops = 0; buffers[i]->kind() == fb::BufferKind::View && hops < 64; ++hops)
      i = uint32_t(buffers[i]->base());
    return i;
  };
  for (const fb::Kernel *k : *program.kernels())
    for (const fb::Op *op : *k->ops())
      if (op->outputs())
        for (uint32_t o : *op->outputs())
          if (buffers[rootOf(o)]->kind() == fb::BufferKind::Param)
            return true;
  return false;
}

Status Session::syncParametersToHost() {
  if (!deviceNewer_)
    return okStatus();
  DLC_RETURN_IF_ERROR(device_->downloadParameters(parameters_),
                      "downloading parameters from " + device_->name());
  deviceNewer_ = false;
  return okStatus();
}

Status Session::parametersChanged() {
  if (deviceNewer_)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           "parameters were edited while " + device_->name() +
                               " held newer values: call syncParametersToHost() before editing");
  hostNewer_ = true;
  return okStatus();
}

std::vector<KernelTime> Session::kernelTimes(const std::string &name) const {
  auto it = programs_.find(name);
  return it == programs_.end() ? std::vector<KernelTime>() : it->second->kernelTimes();
}

ExecutionCounts Session::executionCounts(const std::string &name) const {
  auto it = programs_.find(name);
  return it == programs_.end() ? ExecutionCounts() : it->second->executionCounts();
}

std::vector<KernelChoiceReport> Session::kernelChoices(const std::string &name) const {
  auto it = programs_.find(name);
  return it == programs_.end() ? std::vector<KernelChoiceReport>() : it->second->kernelChoices();
}

uint64_t Session::memoryBytes() const {
  uint64_t bytes = 0;
  for (const auto &[name, p] : programs_)
    bytes += p->arenaBytes();
  for (const Parameter &p : parameters_)
    bytes += p.bytes.size();
  return bytes;
}

Status Session::saveCheckpoint(const std::string &path,
                               const std::map<std::string, std::string> &metadata) {
  DLC_RETURN_IF_ERROR(syncParametersToHost(), "saving a checkpoint");
  std::vector<TensorToWrite> tensors;
  for (const Parameter &p : parameters_)
    tensors.push_back(TensorToWrite{p.name, p.dtype, p.shape, p.bytes.data(), p.bytes.size()});
  return writeSafetensors(path, tensors, metadata);
}

Status Session::loadCheckpoint(const std::string &path,
                               std::map<std::string, std::string> *metadata) {
  SafetensorsFile file;
  DLC_RETURN_IF_ERROR(SafetensorsFile::open(path, &file), "loading a checkpoint");
  // Names and shapes are checked before anything is copied, so a checkpoint
  // of another model leaves both copies of the parameters as they were.
  for (const Parameter &p : parameters_) {
    const SafetensorsTensor *t = file.find(p.name);
    if (!t)
      return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                             path + ": checkpoint has no tensor '" + p.name +
                                 "' (was it written for another model?)");
    if (t->shape != p.shape)
      return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                             path + ": tensor '" + p.name + "' has shape " + shapeString(t->shape) +
                                 ", the model needs " + shapeString(p.shape));
  }
  // From here on the host copy is (being) replaced: it is the newer one.
  deviceNewer_ = false;
  hostNewer_ = true;
  for (Parameter &p : parameters_)
    DLC_RETURN_IF_ERROR(readInto(*file.find(p.name), &p), path);
  if (metadata)
    *metadata = file.metadata();
  return okStatus();
}

} // namespace dlc::rt
