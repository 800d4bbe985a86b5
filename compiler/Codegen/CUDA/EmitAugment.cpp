//===- EmitAugment.cpp - dl.augment as a kernel over the batch ------------===//
//
// One data transform on the batch the training step was given, with the
// arithmetic of the host pipeline (runtime/data/transforms.cc) written as
// device code: a thread per output element in a grid-stride loop, the
// example's draws recomputed by each thread from (seed, epoch, example id)
// with the counter generator (no state, nothing shared), so every element
// of an example sees the same angle or flip. random_contrast needs each
// image's channel means first: a block per image sums them in f64 over
// shared memory in a fixed order, then scales that image.
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/CUDA/EmitterSupport.h"

#include <cmath>

using namespace mlir;

namespace dlc::cuda {

namespace {

constexpr int64_t kThreads = 256;
constexpr int64_t kMaxBlocks = 4096;

double number(dl::ConfigAttr config, StringRef name, double fallback) {
  Attribute a = config.getOptions().get(name);
  if (auto f = dyn_cast_or_null<FloatAttr>(a))
    return f.getValueAsDouble();
  if (auto i = dyn_cast_or_null<IntegerAttr>(a))
    return double(i.getInt());
  return fallback;
}

/// A number option or list option as one value per channel.
std::vector<double> perChannel(dl::ConfigAttr config, StringRef name, int64_t channels) {
  std::vector<double> values;
  Attribute a = config.getOptions().get(name);
  if (auto list = dyn_cast_or_null<ArrayAttr>(a)) {
    for (Attribute e : list)
      values.push_back(cast<FloatAttr>(e).getValueAsDouble());
  } else {
    values.push_back(number(config, name, 0));
  }
  if (values.size() == 1)
    values.assign(size_t(channels), values[0]);
  return values;
}

std::string word(dl::ConfigAttr config, StringRef name, StringRef fallback) {
  auto s = dyn_cast_or_null<StringAttr>(config.getOptions().get(name));
  return (s ? s.getValue() : fallback).str();
}

/// A double literal that reads back exactly.
std::string exactDouble(double v) {
  char text[40];
  std::snprintf(text, sizeof text, "%.17g", v);
  std::string s = text;
  if (s.find_first_of(".en") == std::string::npos)
    s += ".0";
  return s;
}

/// "{a, b, c}" of float literals (each coefficient rounded once, as the
/// CPU's folded pattern rounds it).
std::string floatArray(const std::vector<double> &values) {
  std::string s = "{";
  for (size_t i = 0; i < values.size(); ++i)
    s += (i ? ", " : "") + std::string("(float)") + exactDouble(values[i]);
  return s + "}";
}

/// TF's reflect fill and bilinear sampling, as runtime/data/transforms.cc's
/// reflect() and affineRow() compute them.
const char *kSampling = R"(__device__ __forceinline__ float dlc_reflect(float v, long long len) {
  if (len <= 1) return 0.0f;
  const float size2 = 2.0f * (float)len;
  if (v < 0.0f) {
    v += size2 * (float)(long long)(-v / size2);
    v = v < -(float)len ? v + size2 : -v - 1.0f;
  } else if (v > (float)(len - 1)) {
    v -= size2 * (float)(long long)(v / size2);
    if (v >= (float)len) v = size2 - v - 1.0f;
  }
  return fminf(fmaxf(v, 0.0f), (float)(len - 1));
}
/// Channel c of the image at |image| ([H, W, C]) sampled at output pixel
/// (y, x) through the inverse map m: reflect fill, bilinear, a neighbour
/// beyond the last row or column reads 0.
__device__ __forceinline__ float dlc_affine_sample(const float *image, long long H, long long W,
                                                   long long C, long long y, long long x,
                                                   long long c, const double *m) {
  const float sx = dlc_reflect((float)(m[0] * (double)x + m[1] * (double)y + m[2]), W);
  const float sy = dlc_reflect((float)(m[3] * (double)x + m[4] * (double)y + m[5]), H);
  const float fx = floorf(sx), fy = floorf(sy);
  const long long x0 = (long long)fx, y0 = (long long)fy;
  const float wx = sx - fx, wy = sy - fy;
  const bool right = x0 + 1 < W, below = y0 + 1 < H;
  const float p00 = image[(y0 * W + x0) * C + c];
  const float p01 = right ? image[(y0 * W + x0 + 1) * C + c] : 0.0f;
  const float p10 = below ? image[((y0 + 1) * W + x0) * C + c] : 0.0f;
  const float p11 = below && right ? image[((y0 + 1) * W + x0 + 1) * C + c] : 0.0f;
  const float top = (1.0f - wx) * p00 + wx * p01;
  const float bottom = (1.0f - wx) * p10 + wx * p11;
  return (1.0f - wy) * top + wy * bottom;
}
)";

} // namespace

bool isAugmentGroup(dl::FusedOp group) {
  Block &body = group.getBody().front();
  return llvm::hasSingleElement(body.without_terminator()) && isa<dl::AugmentOp>(body.front());
}

LogicalResult emitAugment(dl::FusedOp group, CudaKernel &kernel) {
  auto augment = cast<dl::AugmentOp>(group.getBody().front().front());
  dl::ConfigAttr config = augment.getConfig();
  const std::string kind = config.getKind().str();
  ArrayRef<int64_t> shape = cast<ShapedType>(augment.getInput().getType()).getShape();
  const int64_t N = shape[0], C = shape.back();
  const int64_t perExample = cast<ShapedType>(augment.getInput().getType()).getNumElements() / N;
  const int64_t H = shape.size() == 4 ? shape[1] : 1, W = shape.size() == 4 ? shape[2] : 1;
  // What each example becomes: its own shape, or random_crop's window.
  ArrayRef<int64_t> outShape = cast<ShapedType>(augment.getOutput().getType()).getShape();
  const int64_t outPerExample = cast<ShapedType>(augment.getOutput().getType()).getNumElements() / N;
  const int64_t OW = outShape.size() == 4 ? outShape[2] : 1;
  const std::string in = inputName(augment.getInput()), ids = inputName(augment.getExampleIds()),
                    seed = inputName(augment.getAugmentSeed()),
                    out = resultName(group, augment.getOutput());
  const bool contrast = kind == "random_contrast";
  kernel.block = {kThreads, 1, 1};
  kernel.grid = {contrast ? N : std::min(kMaxBlocks, (N * outPerExample + kThreads - 1) / kThreads), 1, 1};
  std::string s = header(group, kernel) + counterRngSource() + kSampling;
  s += "extern \"C\" __global__ void __launch_bounds__(256) " + kernel.name + "(" +
       parameterList(group, false) + ") {\n";
  // The draws of this transform: runtime/data/transforms.cc's Draws.
  s += "  const unsigned long long key = dlc_mix64((unsigned long long)" + seed + "[0] ^ dlc_mix64(" +
       std::to_string(augment.getPosition() + 1) + "ull));\n"
       "  const unsigned long long epoch = (unsigned long long)" + seed + "[1];\n"
       "  const long long H = " + ll(H) + ", W = " + ll(W) + ", C = " + ll(C) + ";\n"
       "  (void)H; (void)W;\n";
  const std::string draw = "dlc_uniform01(key, epoch, (unsigned long long)" + ids + "[e] * 8ull + ";

  if (contrast) {
    const double factor = number(config, "factor", 0);
    std::vector<double> range = perChannel(config, "value_range", 2);
    if (!config.getOptions().get("value_range"))
      range = {0, 255};
    s += "  __shared__ double partial[256];\n"
         "  for (long long e = blockIdx.x; e < " + ll(N) + "; e += gridDim.x) {\n"
         "    const float *image = " + in + " + e * " + ll(perExample) + ";\n"
         "    const float scale = (float)(1.0 + (2.0 * " + draw + "0ull) - 1.0) * " + exactDouble(factor) + ");\n"
         "    for (long long c = 0; c < C; ++c) {\n"
         "      double sum = 0.0;\n"
         "      for (long long p = threadIdx.x; p < H * W; p += blockDim.x) sum += (double)image[p * C + c];\n"
         "      partial[threadIdx.x] = sum;\n"
         "      __syncthreads();\n"
         "      for (int half = blockDim.x / 2; half > 0; half /= 2) {\n"
         "        if (threadIdx.x < half) partial[threadIdx.x] += partial[threadIdx.x + half];\n"
         "        __syncthreads();\n"
         "      }\n"
         "      const float mean = (float)(partial[0] / (double)(H * W));\n"
         "      __syncthreads();\n"
         "      for (long long p = threadIdx.x; p < H * W; p += blockDim.x)\n"
         "        " + out + "[e * " + ll(perExample) + " + p * C + c] = fminf(fmaxf((image[p * C + c] - mean) * scale + mean, (float)" +
         exactDouble(range[0]) + "), (float)" + exactDouble(range[1]) + ");\n"
         "    }\n"
         "  }\n}\n";
    kernel.source = std::move(s);
    return success();
  }

  s += "  for (long long i = blockIdx.x * 256ll + threadIdx.x; i < " + ll(N * outPerExample) +
       "; i += (long long)gridDim.x * 256ll) {\n"
       "    const long long e = i / " + ll(outPerExample) + ", r = i - e * " + ll(outPerExample) + ";\n"
       "    const long long c = r % C;\n"
       "    const float *image = " + in + " + e * " + ll(perExample) + ";\n";
  std::string value;
  if (kind == "random_crop") {
    // Training's random window (the step crops only images at least its
    // size): RandomCrop's draws and truncation.
    const int64_t OH = outShape[1];
    s += "    const long long x = (r / C) % " + ll(OW) + ", y = r / (C * " + ll(OW) + ");\n"
         "    const long long y0 = min((long long)(" + draw + "0ull) * (double)" + ll(H - OH + 1) + "), " +
         ll(H - OH) + ");\n"
         "    const long long x0 = min((long long)(" + draw + "1ull) * (double)" + ll(W - OW + 1) + "), " +
         ll(W - OW) + ");\n";
    value = "image[((y0 + y) * W + x0 + x) * C + c]";
  } else if (kind == "rescale" || kind == "normalize" ||
      (kind == "imagenet_preprocess" && word(config, "mode", "caffe") != "caffe")) {
    std::vector<double> scale(static_cast<size_t>(C)), offset(static_cast<size_t>(C));
    if (kind == "rescale") {
      scale.assign(size_t(C), number(config, "scale", 1));
      offset.assign(size_t(C), number(config, "offset", 0));
    } else if (kind == "normalize") {
      std::vector<double> mean = perChannel(config, "mean", C), deviation = perChannel(config, "std", C);
      for (size_t k = 0; k < size_t(C); ++k)
        scale[k] = 1.0 / deviation[k], offset[k] = -mean[k] / deviation[k];
    } else {
      const bool torch = word(config, "mode", "caffe") == "torch";
      const double mean[3] = {0.485, 0.456, 0.406}, deviation[3] = {0.229, 0.224, 0.225};
      for (size_t k = 0; k < size_t(C); ++k) {
        scale[k] = torch ? 1.0 / (255.0 * deviation[k]) : 1.0 / 127.5;
        offset[k] = torch ? -mean[k] / deviation[k] : -1.0;
      }
    }
    s += "    const float scale[" + std::to_string(C) + "] = " + floatArray(scale) + ";\n"
         "    const float offset[" + std::to_string(C) + "] = " + floatArray(offset) + ";\n";
    value = "image[r] * scale[c] + offset[c]";
  } else if (kind == "imagenet_preprocess") { // caffe: RGB to BGR less ImageNet's BGR means
    s += "    const float mean[3] = {103.939f, 116.779f, 123.68f};\n";
    value = "image[r - c + 2 - c] - mean[c]";
  } else if (kind == "random_brightness") {
    std::vector<double> range = {0, 255};
    if (config.getOptions().get("value_range"))
      range = perChannel(config, "value_range", 2);
    s += "    const float delta = (float)((2.0 * " + draw + "0ull) - 1.0) * " +
         exactDouble(number(config, "factor", 0)) + " * " + exactDouble(range[1] - range[0]) + ");\n";
    value = "fminf(fmaxf(image[r] + delta, (float)" + exactDouble(range[0]) + "), (float)" +
            exactDouble(range[1]) + ")";
  } else {
    // The spatial ones: output pixel (y, x).
    s += "    const long long x = (r / C) % W, y = r / (C * W);\n";
    if (kind == "random_flip") {
      const std::string mode = word(config, "mode", "horizontal");
      const bool horizontal = mode != "vertical", vertical = mode != "horizontal";
      s += std::string("    const bool flipX = ") + (horizontal ? draw + "0ull) < 0.5" : "false") + ";\n" +
           "    const bool flipY = " + (vertical ? draw + "1ull) < 0.5" : "false") + ";\n";
      value = "image[((flipY ? H - 1 - y : y) * W + (flipX ? W - 1 - x : x)) * C + c]";
    } else {
      // The inverse map of runtime/data/transforms.cc's RandomAffine and
      // RandomTranslation, in double.
      s += "    const double w = (double)(W - 1), h = (double)(H - 1);\n"
           "    (void)w; (void)h;\n";
      if (kind == "random_translation") {
        s += "    const double dy = (2.0 * " + draw + "0ull) - 1.0) * " +
             exactDouble(number(config, "height_factor", 0)) + " * (double)H;\n"
             "    const double dx = (2.0 * " + draw + "1ull) - 1.0) * " +
             exactDouble(number(config, "width_factor", 0)) + " * (double)W;\n"
             "    const double m[6] = {1.0, 0.0, -dx, 0.0, 1.0, -dy};\n";
      } else if (kind == "random_zoom") {
        s += "    const double z = 1.0 + (2.0 * " + draw + "0ull) - 1.0) * " +
             exactDouble(number(config, "factor", 0)) + ";\n"
             "    const double m[6] = {z, 0.0, w / 2.0 * (1.0 - z), 0.0, z, h / 2.0 * (1.0 - z)};\n";
      } else if (kind == "random_rotation") {
        s += "    const double angle = (2.0 * " + draw + "0ull) - 1.0) * " +
             exactDouble(number(config, "factor", 0)) + " * 6.283185307179586;\n"
             "    const double cs = cos(angle), sn = sin(angle);\n"
             "    const double m[6] = {cs, -sn, (w - (cs * w - sn * h)) / 2.0, sn, cs, "
             "(h - (sn * w + cs * h)) / 2.0};\n";
      } else {
        return augment.emitError("no CUDA kernel for data transform '") << kind << "'";
      }
      value = "dlc_affine_sample(image, H, W, C, y, x, c, m)";
    }
  }
  s += "    " + out + "[i] = " + value + ";\n  }\n}\n";
  kernel.source = std::move(s);
  return success();
}

} // namespace dlc::cuda
