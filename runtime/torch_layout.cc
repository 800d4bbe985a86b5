//===- torch_layout.cc - PyTorch state_dict tensors as dlc parameters -----===//
#include "runtime/torch_layout.h"

#include "runtime/tensor.h"

namespace dlc::rt {
namespace {

Status invalid(const std::string &message) {
  return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, message);
}

/// Reads PyTorch tensor |torchName|, which must have |expected| shape.
Status readShaped(const TensorLookup &lookup, const std::string &torchName, const std::string &param,
                  const std::vector<int64_t> &expected, std::vector<float> *values) {
  std::vector<int64_t> shape;
  DLC_RETURN_IF_ERROR(lookup(torchName, &shape, values),
                      "the PyTorch tensor " + shapeString(expected) + " for '" + param + "'");
  if (shape != expected)
    return invalid("the PyTorch tensor '" + torchName + "' is " + shapeString(shape) + " but '" + param +
                   "' needs " + shapeString(expected) + " in PyTorch's layout");
  return okStatus();
}

/// [rows, cols] -> [cols, rows].
std::vector<float> transposed(const std::vector<float> &in, int64_t rows, int64_t cols) {
  std::vector<float> out(in.size());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      out[size_t(c * rows + r)] = in[size_t(r * cols + c)];
  return out;
}

} // namespace

Status readTorchParameter(const TensorLookup &lookup, const std::string &name,
                          const std::string &layerClass, const std::vector<int64_t> &shape,
                          const std::vector<int64_t> &imageRows, std::vector<float> *out) {
  const size_t slash = name.rfind('/');
  const std::string module = name.substr(0, slash), param = name.substr(slash + 1);
  auto tensor = [&](const std::string &torchName) { return module + "." + torchName; };
  auto same = [&](const std::string &torchName) {
    return readShaped(lookup, tensor(torchName), name, shape, out);
  };
  if (layerClass == "conv2d" && param == "kernel" && shape.size() == 4) {
    const int64_t kh = shape[0], kw = shape[1], in = shape[2], o = shape[3];
    std::vector<float> w;
    DLC_RETURN_IF_ERROR(readShaped(lookup, tensor("weight"), name, {o, in, kh, kw}, &w), "");
    out->assign(w.size(), 0.0f);
    for (int64_t a = 0; a < o; ++a)
      for (int64_t b = 0; b < in; ++b)
        for (int64_t y = 0; y < kh; ++y)
          for (int64_t x = 0; x < kw; ++x)
            (*out)[size_t(((y * kw + x) * in + b) * o + a)] = w[size_t(((a * in + b) * kh + y) * kw + x)];
    return okStatus();
  }
  if (layerClass == "dense" && param == "kernel" && shape.size() == 2) {
    const int64_t in = shape[0], units = shape[1];
    std::vector<float> w;
    DLC_RETURN_IF_ERROR(readShaped(lookup, tensor("weight"), name, {units, in}, &w), "");
    *out = transposed(w, units, in); // [in, units], rows in PyTorch's input order
    if (!imageRows.empty()) {
      // Checked without overflow: a bundle's numbers may be hostile.
      const bool fits = imageRows.size() == 3 && imageRows[0] >= 1 && imageRows[1] >= 1 &&
                        imageRows[2] >= 1 && imageRows[0] <= in && imageRows[1] <= in / imageRows[0] &&
                        imageRows[2] <= in / (imageRows[0] * imageRows[1]) &&
                        imageRows[2] * (imageRows[0] * imageRows[1]) == in;
      if (!fits)
        return invalid("'" + name + "': image rows " + shapeString(imageRows) + " do not make its " +
                       std::to_string(in) + " inputs");
      const int64_t H = imageRows[0], W = imageRows[1], C = imageRows[2];
      std::vector<float> reordered(out->size());
      for (int64_t c = 0; c < C; ++c)
        for (int64_t y = 0; y < H; ++y)
          for (int64_t x = 0; x < W; ++x)
            std::copy_n(out->begin() + ((c * H + y) * W + x) * units, units,
                        reordered.begin() + ((y * W + x) * C + c) * units);
      *out = std::move(reordered);
    }
    return okStatus();
  }
  if ((layerClass == "conv2d" || layerClass == "dense") && param == "bias")
    return same("bias");
  if (layerClass == "batch_normalization") {
    const char *torchName = param == "gamma"             ? "weight"
                            : param == "beta"            ? "bias"
                            : param == "moving_mean"     ? "running_mean"
                            : param == "moving_variance" ? "running_var"
                                                         : nullptr;
    if (torchName)
      return same(torchName);
  }
  if (layerClass == "embedding" && param == "embeddings")
    return same("weight");
  if (layerClass == "lstm" && shape.size() == 2 && (param == "kernel" || param == "recurrent_kernel")) {
    std::vector<float> w;
    DLC_RETURN_IF_ERROR(readShaped(lookup, tensor(param == "kernel" ? "weight_ih_l0" : "weight_hh_l0"),
                                   name, {shape[1], shape[0]}, &w),
                        "");
    *out = transposed(w, shape[1], shape[0]);
    return okStatus();
  }
  if (layerClass == "lstm" && param == "bias") {
    std::vector<float> hh;
    DLC_RETURN_IF_ERROR(readShaped(lookup, tensor("bias_ih_l0"), name, shape, out), "");
    DLC_RETURN_IF_ERROR(readShaped(lookup, tensor("bias_hh_l0"), name, shape, &hh), "");
    for (size_t i = 0; i < out->size(); ++i)
      (*out)[i] += hh[i];
    return okStatus();
  }
  return invalid("weights_layout=torch: no PyTorch layout is known for '" + name + "' (a " +
                 (layerClass.empty() ? std::string("layer of unknown class") : layerClass) +
                 " parameter); layouts exist for conv2d, dense, batch_norm, embedding and lstm");
}

} // namespace dlc::rt
