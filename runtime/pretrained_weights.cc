//===- pretrained_weights.cc - Reading a model's pretrained weight files --===//
#include "runtime/pretrained_weights.h"

#include "runtime/torch_layout.h"

namespace dlc::rt {

PretrainedWeights::PretrainedWeights(const std::vector<Param> &params) {
  for (const Param &p : params) {
    if (p.layout == "torch") {
      torch_[p.name] = p;
      continue;
    }
    const size_t slash = p.name.rfind('/');
    const std::string layer = slash == std::string::npos ? p.name : p.name.substr(0, slash);
    std::vector<KerasLayer> &layers = layers_[p.file];
    if (layers.empty() || layers.back().name != layer)
      layers.push_back({layer, p.layerClass, {}});
    layers.back().params.push_back(p.name.substr(slash + 1));
  }
}

Status PretrainedWeights::read(const std::string &file, const std::string &name,
                               const std::vector<int64_t> &shape, std::vector<float> *out) {
  auto torch = torch_.find(name);
  if (!safetensors_.count(file) && !keras_.count(file)) {
    if (looksLikeKerasFile(file) && torch == torch_.end()) {
      std::map<std::string, WeightTensor> weights;
      DLC_RETURN_IF_ERROR(readKerasWeights(file, layers_[file], &weights), "");
      keras_.emplace(file, std::move(weights));
    } else {
      SafetensorsFile weights;
      DLC_RETURN_IF_ERROR(SafetensorsFile::open(file, &weights), "");
      safetensors_.emplace(file, std::move(weights));
    }
  }
  if (auto it = safetensors_.find(file); it != safetensors_.end() && torch != torch_.end()) {
    TensorLookup lookup = [&](const std::string &tensor, std::vector<int64_t> *shape,
                              std::vector<float> *values) {
      const SafetensorsTensor *t = it->second.find(tensor);
      if (!t)
        return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                               file + ": no tensor '" + tensor + "' in the PyTorch state_dict");
      *shape = t->shape;
      return readFloat32(*t, values);
    };
    return readTorchParameter(lookup, name, torch->second.layerClass, shape, torch->second.imageRows,
                              out);
  }
  if (auto it = safetensors_.find(file); it != safetensors_.end()) {
    const SafetensorsTensor *t = it->second.find(name);
    if (!t)
      return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                             file + ": no tensor '" + name + "' (of shape " + shapeString(shape) +
                                 ") in the file");
    if (t->shape != shape)
      return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                             file + ": the tensor '" + name + "' is " + shapeString(t->shape) +
                                 " but the model's is " + shapeString(shape));
    return readFloat32(*t, out);
  }
  std::map<std::string, WeightTensor> &weights = keras_[file];
  auto t = weights.find(name);
  if (t == weights.end())
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           file + ": no weight '" + name + "' (of shape " + shapeString(shape) +
                               ") in the file");
  if (t->second.shape != shape)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           file + ": the weight '" + name + "' is " + shapeString(t->second.shape) +
                               " but the model's is " + shapeString(shape));
  *out = t->second.values;
  used_[file].insert(name);
  return okStatus();
}

Status PretrainedWeights::checkAllUsed() const {
  for (const auto &[file, weights] : keras_)
    for (const auto &[name, tensor] : weights)
      if (!used_.count(file) || !used_.at(file).count(name))
        return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                               file + ": the weight '" + name + "' " + shapeString(tensor.shape) +
                                   " is not loaded by any parameter of the model (a layer "
                                   "missing from the model, or named differently?)");
  return okStatus();
}

} // namespace dlc::rt
