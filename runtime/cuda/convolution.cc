//===- convolution.cc - The library routine "convolution": its contract ---===//
#include "runtime/cuda/convolution.h"

#include "runtime/cuda/library_call.h"
#include "runtime/float16.h"
#include "runtime/tf32.h"

#include <vector>

namespace dlc::rt::cuda {
namespace {

// cuDNN's descriptors take int sizes and strides: every side and every
// tensor's element count stays below 2^31.
constexpr int64_t kIntLimit = (int64_t(1) << 31) - 1;

/// a * b * ..., or -1 past kIntLimit.
int64_t boundedProduct(std::initializer_list<int64_t> factors) {
  int64_t product = 1;
  for (int64_t f : factors) {
    if (f > kIntLimit / product)
      return -1;
    product *= f;
  }
  return product;
}

std::vector<float> toFloats(DType type, const void *data, int64_t count) {
  std::vector<float> out(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i)
    out[size_t(i)] = float(loadElement(type, data, i));
  return out;
}

void storeFloats(DType type, const std::vector<float> &values, void *data) {
  for (size_t i = 0; i < values.size(); ++i)
    storeElement(type, data, int64_t(i), values[i]);
}

} // namespace

const char *convolutionDirectionName(ConvolutionDirection d) {
  switch (d) {
  case ConvolutionDirection::kForward: return "forward";
  case ConvolutionDirection::kGradInput: return "grad_input";
  case ConvolutionDirection::kGradKernel: return "grad_kernel";
  }
  return "?";
}

const char *convolutionEpilogueName(ConvolutionEpilogue e) {
  return e == ConvolutionEpilogue::kRelu ? "relu" : "none";
}

Status parseConvolution(const fb::LibraryCall &call, const fb::Program &program, ConvolutionCall *out) {
  LibraryCallReader r(call, program, kConvolutionRoutine);
  ConvolutionCall c;
  if (call.library() != fb::Library::cudnn || call.routine()->str() != kConvolutionRoutine)
    return r.invalid("routine '" + call.routine()->str() + "' is not one this runtime runs");
  const std::pair<const char *, int64_t *> sides[] = {
      {"n", &c.n},        {"h", &c.h},        {"w", &c.w},
      {"c", &c.c},        {"k", &c.k},        {"r", &c.r},
      {"s", &c.s},        {"p", &c.p},        {"q", &c.q},
      {"stride_h", &c.strideH}, {"stride_w", &c.strideW}, {"dilation_h", &c.dilationH},
      {"dilation_w", &c.dilationW}};
  for (const auto &[name, field] : sides)
    DLC_RETURN_IF_ERROR(r.integer(name, 1, kIntLimit, field), "");
  DLC_RETURN_IF_ERROR(r.integer("pad_h", 0, c.dilationH * (c.r - 1), &c.padH), "");
  DLC_RETURN_IF_ERROR(r.integer("pad_w", 0, c.dilationW * (c.s - 1), &c.padW), "");
  int64_t bias = 0, deterministic = 0, tf32 = 0;
  DLC_RETURN_IF_ERROR(r.integer("bias", 0, 1, &bias), "");
  DLC_RETURN_IF_ERROR(r.integer("deterministic", 0, 1, &deterministic), "");
  DLC_RETURN_IF_ERROR(r.integer("tf32", 0, 1, &tf32), "");
  c.bias = bias, c.deterministic = deterministic, c.tf32 = tf32;
  const std::string direction = r.text("direction"), epilogue = r.text("epilogue");
  bool known = false;
  for (ConvolutionDirection d :
       {ConvolutionDirection::kForward, ConvolutionDirection::kGradInput, ConvolutionDirection::kGradKernel})
    if (direction == convolutionDirectionName(d))
      c.direction = d, known = true;
  if (!known)
    return r.invalid("direction '" + direction + "' is not forward, grad_input or grad_kernel");
  if (epilogue != "none" && epilogue != "relu")
    return r.invalid("epilogue '" + epilogue + "' is not none or relu");
  c.epilogue = epilogue == "relu" ? ConvolutionEpilogue::kRelu : ConvolutionEpilogue::kNone;
  const bool forward = c.direction == ConvolutionDirection::kForward;
  if (!forward && (c.bias || c.epilogue != ConvolutionEpilogue::kNone))
    return r.invalid("only the forward direction takes a bias or an epilogue");
  // The output's sides follow from the input's, as conv2d states them.
  auto side = [](int64_t in, int64_t pad, int64_t dilation, int64_t window, int64_t stride) {
    const int64_t span = in + 2 * pad - dilation * (window - 1) - 1;
    return span < 0 ? int64_t(0) : span / stride + 1;
  };
  if (side(c.h, c.padH, c.dilationH, c.r, c.strideH) != c.p ||
      side(c.w, c.padW, c.dilationW, c.s, c.strideW) != c.q)
    return r.invalid("an output of " + std::to_string(c.p) + "x" + std::to_string(c.q) +
                     " does not follow from the input, filter, stride, padding and dilation");
  if (boundedProduct({c.n, c.h, c.w, c.c}) < 0 || boundedProduct({c.r, c.s, c.c, c.k}) < 0 ||
      boundedProduct({c.n, c.p, c.q, c.k}) < 0)
    return r.invalid("a tensor of 2^31 elements or more (cuDNN's sizes are ints)");
  const size_t args = 4 + (c.bias ? 1 : 0);
  DLC_RETURN_IF_ERROR(r.checkArgCount(args), "");
  switch (c.direction) {
  case ConvolutionDirection::kForward:
    c.input = r.arg(0), c.filter = r.arg(1), c.output = r.arg(args - 2);
    if (c.bias)
      c.biasBuffer = r.arg(2);
    break;
  case ConvolutionDirection::kGradInput:
    c.output = r.arg(0), c.filter = r.arg(1), c.input = r.arg(2);
    break;
  case ConvolutionDirection::kGradKernel:
    c.input = r.arg(0), c.output = r.arg(1), c.filter = r.arg(2);
    break;
  }
  c.scratch = r.arg(args - 1);
  c.type = r.type(c.input);
  if (!isLibraryFloat(c.type) || r.type(c.filter) != c.type || r.type(c.output) != c.type ||
      (c.bias && r.type(c.biasBuffer) != c.type))
    return r.invalid("its tensors must hold one type of f32, f16 or bf16");
  if (c.tf32 && c.type != DType::kF32)
    return r.invalid("tf32 rounds f32 operands: its tensors must hold f32");
  DLC_RETURN_IF_ERROR(r.checkElements(c.input, uint64_t(c.inputElements()), "the input"), "");
  DLC_RETURN_IF_ERROR(r.checkElements(c.filter, uint64_t(c.filterElements()), "the filter"), "");
  DLC_RETURN_IF_ERROR(r.checkElements(c.output, uint64_t(c.outputElements()), "the output"), "");
  if (c.bias)
    DLC_RETURN_IF_ERROR(r.checkElements(c.biasBuffer, uint64_t(c.k), "the bias"), "");
  DLC_RETURN_IF_ERROR(
      r.checkAtLeast(c.scratch, uint64_t(c.filterElements()) * dtypeSize(c.type), "the scratch"), "");
  *out = c;
  return okStatus();
}

void referenceConvolution(const ConvolutionCall &c, const ConvolutionBuffers<void *> &b) {
  const bool forward = c.direction == ConvolutionDirection::kForward;
  const bool gradInput = c.direction == ConvolutionDirection::kGradInput;
  // The operands the direction reads, as floats; its result summed in f32.
  std::vector<float> x, w, y;
  if (!gradInput)
    x = toFloats(c.type, b.input, c.inputElements());
  if (c.direction != ConvolutionDirection::kGradKernel)
    w = toFloats(c.type, b.filter, c.filterElements());
  if (!forward)
    y = toFloats(c.type, b.output, c.outputElements());
  if (c.tf32) // the direction's two operands
    for (std::vector<float> *operand : {&x, &w, &y})
      roundToTf32(operand->data(), operand->data(), int64_t(operand->size()));
  std::vector<float> result(size_t(forward ? c.outputElements() : gradInput ? c.inputElements()
                                                                             : c.filterElements()),
                            0.0f);
  // Every (output position, filter tap) pair that meets an input position.
  for (int64_t n = 0; n < c.n; ++n)
    for (int64_t i = 0; i < c.p; ++i)
      for (int64_t j = 0; j < c.q; ++j)
        for (int64_t u = 0; u < c.r; ++u) {
          const int64_t row = i * c.strideH - c.padH + u * c.dilationH;
          if (row < 0 || row >= c.h)
            continue;
          for (int64_t v = 0; v < c.s; ++v) {
            const int64_t col = j * c.strideW - c.padW + v * c.dilationW;
            if (col < 0 || col >= c.w)
              continue;
            const size_t in = size_t(((n * c.h + row) * c.w + col) * c.c);
            const size_t out = size_t(((n * c.p + i) * c.q + j) * c.k);
            const size_t tap = size_t((u * c.s + v) * c.c * c.k);
            for (int64_t ci = 0; ci < c.c; ++ci)
              for (int64_t ko = 0; ko < c.k; ++ko) {
                const size_t f = tap + size_t(ci * c.k + ko);
                if (forward)
                  result[out + size_t(ko)] += x[in + size_t(ci)] * w[f];
                else if (gradInput)
                  result[in + size_t(ci)] += y[out + size_t(ko)] * w[f];
                else
                  result[f] += x[in + size_t(ci)] * y[out + size_t(ko)];
              }
          }
        }
  if (forward) {
    for (size_t e = 0; e < result.size(); ++e) {
      const int64_t ko = int64_t(e) % c.k;
      float value = result[e] + (c.bias ? float(loadElement(c.type, b.bias, ko)) : 0.0f);
      if (c.epilogue == ConvolutionEpilogue::kRelu)
        value = value > 0.0f ? value : 0.0f;
      result[e] = value;
    }
  }
  storeFloats(c.type, result, forward ? b.output : gradInput ? b.input : b.filter);
}

} // namespace dlc::rt::cuda
