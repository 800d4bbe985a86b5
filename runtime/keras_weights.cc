//===- keras_weights.cc - Keras weight files: HDF5 and .keras archives ----===//
#include "runtime/keras_weights.h"

#include "runtime/file_io.h"
#include "runtime/limits.h"
#include "runtime/zip_archive.h"

#include <hdf5.h>
#include <hdf5_hl.h>

#include <cstring>
#include <functional>

namespace dlc::rt {
namespace {

Status dataLoss(const std::string &path, const std::string &what) {
  return DLC_MAKE_STATUS(StatusCode::kDataLoss, path + ": " + what);
}

/// Closes an HDF5 handle with the right function on every return path.
class Handle {
public:
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  Handle(const Handle &) = delete;
  Handle &operator=(const Handle &) = delete;
  ~Handle() {
    if (id_ >= 0)
      close_(id_);
  }
  hid_t get() const { return id_; }
  bool ok() const { return id_ >= 0; }

private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

/// HDF5 prints its own error stacks unless told not to; we report ours.
void silenceHdf5() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

/// A string-array attribute (fixed or variable length), or an empty list
/// when absent or not strings (Keras writes an empty float array for a
/// layer without weights).
Status readStrings(hid_t object, const char *name, const std::string &where,
                   std::vector<std::string> *out) {
  out->clear();
  if (H5Aexists(object, name) <= 0)
    return okStatus();
  Handle attr(H5Aopen(object, name, H5P_DEFAULT), H5Aclose);
  Handle type(H5Aget_type(attr.get()), H5Tclose);
  Handle space(H5Aget_space(attr.get()), H5Sclose);
  if (!attr.ok() || !type.ok() || !space.ok())
    return dataLoss(where, std::string("the attribute '") + name + "' cannot be read");
  const hssize_t count = H5Sget_simple_extent_npoints(space.get());
  if (H5Tget_class(type.get()) != H5T_STRING || count <= 0)
    return okStatus();
  if (count > (1 << 20))
    return dataLoss(where, std::string("the attribute '") + name + "' is too long");
  if (H5Tis_variable_str(type.get()) > 0) {
    std::vector<char *> strings(size_t(count), nullptr);
    Handle memory(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(memory.get(), H5T_VARIABLE);
    if (H5Aread(attr.get(), memory.get(), strings.data()) < 0)
      return dataLoss(where, std::string("the attribute '") + name + "' cannot be read");
    for (char *s : strings) {
      out->push_back(s ? s : "");
      if (s)
        H5free_memory(s);
    }
    return okStatus();
  }
  const size_t width = H5Tget_size(type.get());
  if (width == 0 || width > 4096)
    return dataLoss(where, std::string("the attribute '") + name + "' has strings of " +
                               std::to_string(width) + " bytes");
  std::vector<char> bytes(size_t(count) * width);
  if (H5Aread(attr.get(), type.get(), bytes.data()) < 0)
    return dataLoss(where, std::string("the attribute '") + name + "' cannot be read");
  for (hssize_t i = 0; i < count; ++i) {
    const char *s = bytes.data() + size_t(i) * width;
    out->push_back(std::string(s, strnlen(s, width)));
  }
  return okStatus();
}

Status readDataset(hid_t parent, const std::string &path, const std::string &where,
                   WeightTensor *out) {
  Handle set(H5Dopen2(parent, path.c_str(), H5P_DEFAULT), H5Dclose);
  if (!set.ok())
    return dataLoss(where, "no dataset '" + path + "'");
  Handle type(H5Dget_type(set.get()), H5Tclose);
  const H5T_class_t kind = H5Tget_class(type.get());
  if (kind != H5T_FLOAT && kind != H5T_INTEGER)
    return dataLoss(where, "'" + path + "' is not numbers");
  Handle space(H5Dget_space(set.get()), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0 || rank > 8)
    return dataLoss(where, "'" + path + "' has rank " + std::to_string(rank));
  hsize_t dims[8] = {};
  H5Sget_simple_extent_dims(space.get(), dims, nullptr);
  WeightTensor t;
  int64_t count = 1;
  for (int i = 0; i < rank; ++i) {
    if (dims[i] > hsize_t(kMaxTensorElements) || (dims[i] && count > kMaxTensorElements / int64_t(dims[i])))
      return dataLoss(where, "'" + path + "' is too large");
    t.shape.push_back(int64_t(dims[i]));
    count *= int64_t(dims[i]);
  }
  DLC_RETURN_IF_ERROR(checkFits(uint64_t(count) * 4, hostMemoryBytes() / 2, where + " '" + path + "'"), "");
  t.values.resize(size_t(count));
  if (count && H5Dread(set.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.values.data()) < 0)
    return dataLoss(where, "'" + path + "' cannot be read");
  *out = std::move(t);
  return okStatus();
}

std::vector<std::string> splitPath(const std::string &path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    std::string part = path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (!part.empty())
      parts.push_back(part);
    if (slash == std::string::npos)
      break;
    start = slash + 1;
  }
  return parts;
}

/// The legacy layout: layer_names, then each layer's weight_names.
Status readLegacy(hid_t root, const std::string &where, std::map<std::string, WeightTensor> *out) {
  std::vector<std::string> layers;
  DLC_RETURN_IF_ERROR(readStrings(root, "layer_names", where, &layers), "");
  for (const std::string &layer : layers) {
    Handle group(H5Gopen2(root, layer.c_str(), H5P_DEFAULT), H5Gclose);
    if (!group.ok())
      return dataLoss(where, "layer_names lists '" + layer + "' but there is no such group");
    std::vector<std::string> weights;
    DLC_RETURN_IF_ERROR(readStrings(group.get(), "weight_names", where, &weights), "");
    for (const std::string &weight : weights) {
      std::vector<std::string> parts = splitPath(weight);
      if (parts.empty())
        return dataLoss(where, "layer '" + layer + "' has an empty weight name");
      std::string param = parts.back();
      if (size_t colon = param.rfind(':'); colon != std::string::npos)
        param.resize(colon);
      // "block1_conv1/kernel:0" inside a nested model's group names its own
      // layer; a recurrent cell ("lstm_cell") belongs to the group's layer.
      std::string owner = layer;
      if (parts.size() >= 2) {
        const std::string &inner = parts[parts.size() - 2];
        if (inner.size() < 5 || inner.compare(inner.size() - 5, 5, "_cell") != 0)
          owner = inner;
      }
      WeightTensor t;
      DLC_RETURN_IF_ERROR(readDataset(group.get(), weight, where, &t), "");
      if (!out->emplace(owner + "/" + param, std::move(t)).second)
        return dataLoss(where, "the weight '" + owner + "/" + param + "' appears twice");
    }
  }
  return okStatus();
}

herr_t collectLink(hid_t, const char *name, const H5L_info_t *, void *data) {
  static_cast<std::vector<std::string> *>(data)->push_back(name);
  return 0;
}

/// The Keras 3 layout: <container>/layers/<class>[_k]/[cell/]vars/<i>.
Status readKeras3(hid_t root, const std::string &where, const std::vector<KerasLayer> &layers,
                  std::map<std::string, WeightTensor> *out) {
  std::vector<std::string> links;
  if (H5Lvisit(root, H5_INDEX_NAME, H5_ITER_INC, collectLink, &links) < 0)
    return dataLoss(where, "its groups cannot be listed");
  // class -> container -> position k -> that layer's variables by index.
  struct FileLayer {
    std::string path;
    std::map<size_t, std::string> variables;
  };
  std::map<std::string, std::map<std::string, std::map<size_t, FileLayer>>> found;
  for (const std::string &link : links) {
    std::vector<std::string> parts = splitPath(link);
    if (parts.size() < 4 || parts[0] != "layers" || parts[parts.size() - 2] != "vars")
      continue; // groups, the optimizer's and the model's own variables
    const std::string &index = parts.back();
    if (index.empty() || index.size() > 6 || index.find_first_not_of("0123456789") != std::string::npos)
      continue;
    size_t at = parts.size() - 3;
    if (parts[at] == "cell" && at > 0)
      --at;
    // "conv2d_3" is the conv2d at position 3; "conv2d" position 0.
    std::string layerClass = parts[at];
    size_t position = 0;
    if (size_t underscore = layerClass.rfind('_'); underscore != std::string::npos &&
        underscore + 1 < layerClass.size() &&
        layerClass.find_first_not_of("0123456789", underscore + 1) == std::string::npos &&
        layerClass.size() - underscore <= 7) {
      position = size_t(std::stoul(layerClass.substr(underscore + 1)));
      layerClass.resize(underscore);
    }
    std::string container;
    for (size_t i = 0; i < at; ++i)
      container += parts[i] + "/";
    FileLayer &layer = found[layerClass][container][position];
    layer.path = container + parts[at];
    layer.variables[size_t(std::stoul(index))] = link;
  }
  // The model's layers of each class, in order, against the file's.
  std::map<std::string, std::vector<const KerasLayer *>> wanted;
  for (const KerasLayer &layer : layers)
    wanted[layer.layerClass].push_back(&layer);
  for (const auto &[layerClass, containers] : found) {
    if (containers.size() > 1)
      return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                             where + ": layers of class '" + layerClass + "' sit in " +
                                 std::to_string(containers.size()) +
                                 " nested models, so their order is ambiguous (save the part you "
                                 "load, e.g. the base model, on its own)");
    const std::map<size_t, FileLayer> &inFile = containers.begin()->second;
    const std::vector<const KerasLayer *> &model = wanted[layerClass];
    size_t k = 0;
    for (const auto &[position, fileLayer] : inFile) {
      if (position != k || k >= model.size())
        return DLC_MAKE_STATUS(
            StatusCode::kInvalidArgument,
            where + ": the file's layer '" + fileLayer.path + "' is the " + layerClass + " number " +
                std::to_string(position + 1) + " but the model has " +
                std::to_string(model.size()) + " " + layerClass +
                " layer(s) loading from it (a layer missing from the model?)");
      const KerasLayer &layer = *model[k++];
      for (const auto &[variable, link] : fileLayer.variables) {
        if (variable >= layer.params.size())
          return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                                 where + ": '" + link + "' is variable " + std::to_string(variable) +
                                     " of the layer, but '" + layer.name + "' has " +
                                     std::to_string(layer.params.size()) + " parameters");
        WeightTensor t;
        DLC_RETURN_IF_ERROR(readDataset(root, link, where, &t), "");
        out->emplace(layer.name + "/" + layer.params[variable], std::move(t));
      }
    }
  }
  return okStatus();
}

Status readOpenFile(hid_t file, const std::string &where, const std::vector<KerasLayer> &layers,
                    std::map<std::string, WeightTensor> *out) {
  if (H5Aexists(file, "layer_names") > 0)
    return readLegacy(file, where, out);
  if (H5Lexists(file, "model_weights", H5P_DEFAULT) > 0) {
    Handle group(H5Gopen2(file, "model_weights", H5P_DEFAULT), H5Gclose);
    if (group.ok() && H5Aexists(group.get(), "layer_names") > 0)
      return readLegacy(group.get(), where, out);
  }
  if (H5Lexists(file, "layers", H5P_DEFAULT) > 0)
    return readKeras3(file, where, layers, out);
  return dataLoss(where, "neither Keras layout (no layer_names attribute, no layers group)");
}

} // namespace

bool looksLikeKerasFile(const std::string &path) {
  std::vector<uint8_t> head;
  FILE *f = std::fopen(path.c_str(), "rb");
  if (!f)
    return false;
  uint8_t bytes[8] = {};
  const size_t got = std::fread(bytes, 1, sizeof bytes, f);
  std::fclose(f);
  static const uint8_t kHdf5[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
  return (got == 8 && std::memcmp(bytes, kHdf5, 8) == 0) ||
         (got >= 4 && bytes[0] == 'P' && bytes[1] == 'K' && bytes[2] == 3 && bytes[3] == 4);
}

Status readKerasWeights(const std::string &path, const std::vector<KerasLayer> &layers,
                        std::map<std::string, WeightTensor> *out) {
  silenceHdf5();
  std::vector<uint8_t> bytes;
  DLC_RETURN_IF_ERROR(readFile(path, &bytes, hostMemoryBytes() / 2, "a Keras weights file"), "");
  std::map<std::string, WeightTensor> weights;
  auto readImage = [&](const uint8_t *data, size_t size, const std::string &where) -> Status {
    // Opened from memory: the bytes were read (and, for .keras, unzipped) once.
    Handle file(H5LTopen_file_image(const_cast<uint8_t *>(data), size, 0), H5Fclose);
    if (!file.ok())
      return dataLoss(where, "not an HDF5 file libhdf5 can open");
    return readOpenFile(file.get(), where, layers, &weights);
  };
  if (bytes.size() >= 4 && bytes[0] == 'P' && bytes[1] == 'K') {
    std::vector<ZipMember> members;
    DLC_RETURN_IF_ERROR(readZipArchive(bytes.data(), bytes.size(), nullptr, path, &members), "");
    const ZipMember *h5 = nullptr;
    for (const ZipMember &m : members)
      if (m.name == "model.weights.h5")
        h5 = &m;
    if (!h5)
      return dataLoss(path, "a .keras archive without model.weights.h5");
    DLC_RETURN_IF_ERROR(readImage(h5->data, h5->size, path + " (model.weights.h5)"), "");
  } else {
    DLC_RETURN_IF_ERROR(readImage(bytes.data(), bytes.size(), path), "");
  }
  *out = std::move(weights);
  return okStatus();
}

Status writeKerasH5(const std::string &path, const std::vector<KerasLayerWeights> &layers) {
  silenceHdf5();
  // Built in memory (the core driver, no backing file), then written
  // atomically like every file dlc writes.
  Handle access(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  H5Pset_fapl_core(access.get(), 1 << 20, /*backing_store=*/0);
  Handle file(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, access.get()), H5Fclose);
  if (!file.ok())
    return DLC_MAKE_STATUS(StatusCode::kInternal, path + ": libhdf5 cannot create the file");
  auto writeStrings = [](hid_t object, const char *name, const std::vector<std::string> &values) {
    size_t width = 1;
    for (const std::string &v : values)
      width = std::max(width, v.size());
    std::vector<char> bytes(values.size() * width, 0);
    for (size_t i = 0; i < values.size(); ++i)
      std::memcpy(bytes.data() + i * width, values[i].data(), values[i].size());
    Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(type.get(), width);
    H5Tset_strpad(type.get(), H5T_STR_NULLPAD);
    const hsize_t count = values.size();
    Handle space(values.empty() ? H5Screate(H5S_NULL) : H5Screate_simple(1, &count, nullptr), H5Sclose);
    Handle attr(H5Acreate2(object, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
    return attr.ok() && (values.empty() || H5Awrite(attr.get(), type.get(), bytes.data()) >= 0);
  };
  auto writeText = [](hid_t object, const char *name, const std::string &value) {
    Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(type.get(), std::max<size_t>(value.size(), 1));
    Handle space(H5Screate(H5S_SCALAR), H5Sclose);
    Handle attr(H5Acreate2(object, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
    return attr.ok() && H5Awrite(attr.get(), type.get(), value.c_str()) >= 0;
  };
  std::vector<std::string> names;
  for (const KerasLayerWeights &l : layers)
    names.push_back(l.layer);
  bool ok = writeStrings(file.get(), "layer_names", names) &&
            writeText(file.get(), "backend", "tensorflow") &&
            writeText(file.get(), "keras_version", "3.0.0");
  Handle links(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  H5Pset_create_intermediate_group(links.get(), 1);
  for (const KerasLayerWeights &l : layers) {
    if (!ok)
      break;
    Handle group(H5Gcreate2(file.get(), l.layer.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
    std::vector<std::string> weightNames;
    for (const std::string &n : l.names)
      weightNames.push_back(l.layer + "/" + n);
    ok = group.ok() && writeStrings(group.get(), "weight_names", weightNames);
    for (size_t i = 0; ok && i < l.tensors.size(); ++i) {
      const WeightTensor &t = *l.tensors[i];
      std::vector<hsize_t> dims(t.shape.begin(), t.shape.end());
      Handle space(dims.empty() ? H5Screate(H5S_SCALAR)
                                : H5Screate_simple(int(dims.size()), dims.data(), nullptr),
                   H5Sclose);
      Handle set(H5Dcreate2(group.get(), weightNames[i].c_str(), H5T_IEEE_F32LE, space.get(),
                            links.get(), H5P_DEFAULT, H5P_DEFAULT),
                 H5Dclose);
      ok = set.ok() && H5Dwrite(set.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                                t.values.data()) >= 0;
    }
  }
  if (!ok || H5Fflush(file.get(), H5F_SCOPE_GLOBAL) < 0)
    return DLC_MAKE_STATUS(StatusCode::kInternal, path + ": libhdf5 failed to write the weights");
  const ssize_t size = H5Fget_file_image(file.get(), nullptr, 0);
  if (size <= 0)
    return DLC_MAKE_STATUS(StatusCode::kInternal, path + ": libhdf5 gave no file image");
  std::vector<uint8_t> image(static_cast<size_t>(size));
  if (H5Fget_file_image(file.get(), image.data(), image.size()) != size)
    return DLC_MAKE_STATUS(StatusCode::kInternal, path + ": libhdf5 gave no file image");
  return writeFileAtomically(path, {{image.data(), image.size()}});
}

} // namespace dlc::rt
