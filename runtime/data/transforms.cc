//===- transforms.cc - Preprocessing and augmentation of examples ---------===//
//
// The sampling follows TensorFlow's kernels, which Keras' layers call, so a
// model trained here sees the images a Keras model would: resize uses
// half-pixel centres (ResizeBilinear / ResizeNearestNeighbor with
// half_pixel_centers), rotation and zoom map each output pixel back to the
// input through an affine matrix and read it as ImageProjectiveTransformV3
// does with fill_mode=reflect, interpolation=bilinear.
//
//===----------------------------------------------------------------------===//
#include "runtime/data/transforms.h"

#include "runtime/counter_rng.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace dlc::rt::data {

using Shape = std::vector<int64_t>;

/// Independent uniform draws for one (transform, example); at most 8 per transform.
struct Draws {
  uint64_t seed, epoch, base;
  double operator()(uint64_t k) const { return uniform01(seed, epoch, base + k); }
};

class Transform {
public:
  virtual ~Transform() = default;
  virtual Status outputShape(const Shape &in, Shape *out) const = 0;
  virtual void apply(const float *in, const Shape &inShape, float *out, bool training,
                     const Draws &draw) const = 0;
};

namespace {

constexpr double kTwoPi = 6.283185307179586;

std::string describeShape(const Shape &in) {
  std::string s = "[";
  for (size_t i = 0; i < in.size(); ++i)
    s += (i ? ", " : "") + std::to_string(in[i]);
  return s + "]";
}

Status needImage(const std::string &kind, const Shape &in) {
  if (in.size() == 3)
    return okStatus();
  return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                         "transform '" + kind + "' needs images [height, width, channels], got " +
                             describeShape(in));
}


/// TF's REFLECT fill mode: (d c b a | a b c d | d c b a).
float reflect(float v, int64_t len) {
  if (len <= 1)
    return 0;
  const float size2 = 2.0f * float(len);
  if (v < 0) {
    v += size2 * float(int64_t(-v / size2));
    v = v < -float(len) ? v + size2 : -v - 1;
  } else if (v > float(len - 1)) {
    v -= size2 * float(int64_t(v / size2));
    if (v >= float(len))
      v = size2 - v - 1;
  }
  return std::clamp(v, 0.0f, float(len - 1));
}

/// One output row of affine(); channels known at compile time where they
/// are 1 or 3, so the four taps unroll. A neighbour beyond the last row or
/// column reads TF's fill value 0 (|zeros|), without a branch per channel.
template <int kChannels>
void affineRow(const float *in, int64_t H, int64_t W, int64_t channels, int64_t y, const double m[6],
               const float *zeros, float *out) {
  const int64_t C = kChannels > 0 ? kChannels : channels;
  for (int64_t x = 0; x < W; ++x) {
    const float sx = reflect(float(m[0] * x + m[1] * y + m[2]), W);
    const float sy = reflect(float(m[3] * x + m[4] * y + m[5]), H);
    const float fx = std::floor(sx), fy = std::floor(sy);
    const int64_t x0 = int64_t(fx), y0 = int64_t(fy);
    const float wx = sx - fx, wy = sy - fy;
    const bool right = x0 + 1 < W, below = y0 + 1 < H;
    const float *p00 = y0 < H && x0 < W ? in + (y0 * W + x0) * C : zeros;
    const float *p01 = y0 < H && right ? in + (y0 * W + x0 + 1) * C : zeros;
    const float *p10 = below && x0 < W ? in + ((y0 + 1) * W + x0) * C : zeros;
    const float *p11 = below && right ? in + ((y0 + 1) * W + x0 + 1) * C : zeros;
    float *o = out + x * C;
    for (int64_t c = 0; c < C; ++c) {
      const float top = (1 - wx) * p00[c] + wx * p01[c];
      const float bottom = (1 - wx) * p10[c] + wx * p11[c];
      o[c] = (1 - wy) * top + wy * bottom;
    }
  }
}

/// out(y, x) = in(m[3]x + m[4]y + m[5], m[0]x + m[1]y + m[2]): the inverse
/// map as TF's projective transform takes it, reflect fill, bilinear.
void affine(const float *in, const Shape &s, float *out, const double m[6]) {
  const int64_t H = s[0], W = s[1], C = s[2];
  const std::vector<float> zeros(static_cast<size_t>(C), 0.0f);
  auto row = C == 3 ? affineRow<3> : C == 1 ? affineRow<1> : affineRow<0>;
  for (int64_t y = 0; y < H; ++y)
    row(in, H, W, C, y, m, zeros.data(), out + y * W * C);
}

/// A step that maps each element to x * scale[c] + offset[c] by its channel
/// c (the last axis). Consecutive such steps fold into one FoldedAffine
/// (Pipeline::create), so rescale then normalize is one pass.
class ChannelAffine : public Transform {
public:
  /// Coefficients for |channels| channels, in double for folding.
  virtual void coefficients(int64_t channels, std::vector<double> *scale,
                            std::vector<double> *offset) const = 0;
  Status outputShape(const Shape &in, Shape *out) const override {
    *out = in;
    return okStatus();
  }
  /// Pipeline::create runs every ChannelAffine inside a FoldedAffine; alone,
  /// it runs as a FoldedAffine of itself (defined below).
  void apply(const float *in, const Shape &s, float *out, bool training, const Draws &draw) const override;
};

/// Consecutive ChannelAffine steps as one pass. The composed coefficients
/// are laid out once, at creation, as a pattern of whole channel groups, so
/// the per-example loop is contiguous and vectorizable and allocates nothing.
class FoldedAffine : public ChannelAffine {
public:
  std::vector<std::shared_ptr<const ChannelAffine>> steps;

  void coefficients(int64_t channels, std::vector<double> *scale,
                    std::vector<double> *offset) const override {
    scale->assign(size_t(channels), 1.0);
    offset->assign(size_t(channels), 0.0);
    for (const auto &step : steps) {
      std::vector<double> a, b;
      step->coefficients(channels, &a, &b);
      for (size_t c = 0; c < size_t(channels); ++c) {
        (*scale)[c] *= a[c];
        (*offset)[c] = (*offset)[c] * a[c] + b[c];
      }
    }
  }
  /// Lays out the coefficients for |channels| channels: 16 pixels' worth.
  void prepare(int64_t channels) {
    std::vector<double> scale, offset;
    coefficients(channels, &scale, &offset);
    blockScale_.resize(size_t(channels * 16));
    blockOffset_.resize(size_t(channels * 16));
    for (size_t j = 0; j < blockScale_.size(); ++j) {
      blockScale_[j] = float(scale[j % size_t(channels)]);
      blockOffset_[j] = float(offset[j % size_t(channels)]);
    }
  }
  void apply(const float *in, const Shape &s, float *out, bool, const Draws &) const override {
    const int64_t n = numElements(s), block = int64_t(blockScale_.size());
    const float *a = blockScale_.data(), *b = blockOffset_.data();
    int64_t i = 0;
    for (; i + block <= n; i += block)
      for (int64_t j = 0; j < block; ++j)
        out[i + j] = in[i + j] * a[j] + b[j];
    for (int64_t j = 0; i + j < n; ++j)
      out[i + j] = in[i + j] * a[j] + b[j];
  }

private:
  std::vector<float> blockScale_, blockOffset_;
};

void ChannelAffine::apply(const float *in, const Shape &s, float *out, bool training,
                          const Draws &draw) const {
  FoldedAffine alone;
  alone.steps.push_back(std::shared_ptr<const ChannelAffine>(std::shared_ptr<void>(), this)); // not owned
  alone.prepare(s.empty() ? 1 : s.back());
  alone.apply(in, s, out, training, draw);
}

class Rescale : public ChannelAffine {
public:
  double scale = 1, offset = 0;
  void coefficients(int64_t channels, std::vector<double> *a, std::vector<double> *b) const override {
    a->assign(size_t(channels), scale);
    b->assign(size_t(channels), offset);
  }
};

class Normalize : public ChannelAffine {
public:
  std::vector<double> mean, std;
  Status outputShape(const Shape &in, Shape *out) const override {
    int64_t channels = in.empty() ? 1 : in.back();
    for (size_t n : {mean.size(), std.size()})
      if (n != 1 && int64_t(n) != channels)
        return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                               "transform 'normalize' has " + std::to_string(n) +
                                   " values for inputs with " + std::to_string(channels) +
                                   " channels (give one number, or one per channel)");
    *out = in;
    return okStatus();
  }
  /// (x - mean) / std.
  void coefficients(int64_t channels, std::vector<double> *a, std::vector<double> *b) const override {
    for (size_t c = 0; c < size_t(channels); ++c) {
      const double m = mean[mean.size() == 1 ? 0 : c], d = std[std.size() == 1 ? 0 : c];
      a->push_back(1.0 / d);
      b->push_back(-m / d);
    }
  }
};

/// keras.applications.imagenet_utils.preprocess_input on 0-255 pixels:
/// torch: x / 255, less the RGB means, over the RGB deviations; tf: x /
/// 127.5 - 1 (MobileNet, Xception); both per-channel affine maps.
class ImagenetAffine : public ChannelAffine {
public:
  bool torch = false; // otherwise tf
  Status outputShape(const Shape &in, Shape *out) const override {
    if (torch && (in.empty() || in.back() != 3))
      return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                             "transform 'imagenet_preprocess' in mode torch needs RGB inputs (3 "
                             "channels last), got " + describeShape(in));
    *out = in;
    return okStatus();
  }
  void coefficients(int64_t channels, std::vector<double> *a, std::vector<double> *b) const override {
    const double mean[3] = {0.485, 0.456, 0.406}, deviation[3] = {0.229, 0.224, 0.225};
    for (size_t c = 0; c < size_t(channels); ++c) {
      a->push_back(torch ? 1.0 / (255.0 * deviation[c]) : 1.0 / 127.5);
      b->push_back(torch ? -mean[c] / deviation[c] : -1.0);
    }
  }
};

/// preprocess_input's caffe mode (VGG16, ResNet50): RGB to BGR, less the
/// BGR means of ImageNet.
class ImagenetCaffe : public Transform {
public:
  Status outputShape(const Shape &in, Shape *out) const override {
    if (in.empty() || in.back() != 3)
      return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                             "transform 'imagenet_preprocess' in mode caffe needs RGB inputs (3 "
                             "channels last), got " + describeShape(in));
    *out = in;
    return okStatus();
  }
  void apply(const float *in, const Shape &s, float *out, bool, const Draws &) const override {
    const float meanBgr[3] = {103.939f, 116.779f, 123.68f};
    for (int64_t i = 0, n = numElements(s); i < n; i += 3)
      for (int64_t c = 0; c < 3; ++c)
        out[i + c] = in[i + 2 - c] - meanBgr[c];
  }
};

class Resize : public Transform {
public:
  int64_t height = 0, width = 0;
  bool nearest = false;
  Status outputShape(const Shape &in, Shape *out) const override {
    DLC_RETURN_IF_ERROR(needImage("resize", in), "");
    *out = {height, width, in[2]};
    return okStatus();
  }
  void apply(const float *in, const Shape &s, float *out, bool, const Draws &) const override {
    const int64_t H = s[0], W = s[1], C = s[2];
    if (!nearest)
      return resizeBilinear(in, W, C, 0, 0, H, W, out, height, width);
    for (int64_t y = 0; y < height; ++y) {
      int64_t sy = std::min(int64_t(std::floor((y + 0.5f) * (float(H) / float(height)))), H - 1);
      for (int64_t x = 0; x < width; ++x) {
        int64_t sx = std::min(int64_t(std::floor((x + 0.5f) * (float(W) / float(width)))), W - 1);
        std::memcpy(out + (y * width + x) * C, in + (sy * W + sx) * C, size_t(C) * sizeof(float));
      }
    }
  }
};

/// A random step on [H, W, C] images that keeps their shape and is the
/// identity outside training.
class RandomImageStep : public Transform {
public:
  std::string kind; // for messages: "random_flip", ...
  Status outputShape(const Shape &in, Shape *out) const override {
    DLC_RETURN_IF_ERROR(needImage(kind, in), "");
    *out = in;
    return okStatus();
  }
  void apply(const float *in, const Shape &s, float *out, bool training,
             const Draws &draw) const override {
    if (training)
      augment(in, s, out, draw);
    else
      std::memcpy(out, in, size_t(numElements(s)) * sizeof(float));
  }

protected:
  virtual void augment(const float *in, const Shape &s, float *out, const Draws &draw) const = 0;
};

class RandomFlip : public RandomImageStep {
public:
  bool horizontal = true, vertical = false;

protected:
  void augment(const float *in, const Shape &s, float *out, const Draws &draw) const override {
    const int64_t H = s[0], W = s[1], C = s[2];
    bool flipX = horizontal && draw(0) < 0.5;
    bool flipY = vertical && draw(1) < 0.5;
    for (int64_t y = 0; y < H; ++y) {
      const float *src = in + (flipY ? H - 1 - y : y) * W * C;
      float *dst = out + y * W * C;
      if (!flipX) {
        std::memcpy(dst, src, size_t(W * C) * sizeof(float));
        continue;
      }
      for (int64_t x = 0; x < W; ++x)
        for (int64_t c = 0; c < C; ++c)
          dst[x * C + c] = src[(W - 1 - x) * C + c];
    }
  }
};

class RandomCrop : public Transform {
public:
  int64_t height = 0, width = 0;
  Status outputShape(const Shape &in, Shape *out) const override {
    DLC_RETURN_IF_ERROR(needImage("random_crop", in), "");
    *out = {height, width, in[2]};
    return okStatus();
  }
  void apply(const float *in, const Shape &s, float *out, bool training,
             const Draws &draw) const override {
    const int64_t H = s[0], W = s[1], C = s[2];
    if (training && H >= height && W >= width) {
      int64_t y0 = std::min(int64_t(draw(0) * double(H - height + 1)), H - height);
      int64_t x0 = std::min(int64_t(draw(1) * double(W - width + 1)), W - width);
      for (int64_t y = 0; y < height; ++y)
        std::memcpy(out + y * width * C, in + ((y0 + y) * W + x0) * C,
                    size_t(width * C) * sizeof(float));
      return;
    }
    // Keras: the largest centred window of the target aspect ratio, resized.
    int64_t ch = std::clamp<int64_t>(int64_t(double(W * height) / double(width)), 1, H);
    int64_t cw = std::clamp<int64_t>(int64_t(double(H * width) / double(height)), 1, W);
    resizeBilinear(in, W, C, (H - ch) / 2, (W - cw) / 2, ch, cw, out, height, width);
  }
};

class RandomAffine : public RandomImageStep {
public:
  bool zoom = false; // otherwise rotation
  double factor = 0;

protected:
  void augment(const float *in, const Shape &s, float *out, const Draws &draw) const override {
    const double w = double(s[1] - 1), h = double(s[0] - 1), u = 2 * draw(0) - 1;
    if (zoom) {
      double z = 1 + u * factor;
      const double m[6] = {z, 0, w / 2 * (1 - z), 0, z, h / 2 * (1 - z)};
      return affine(in, s, out, m);
    }
    double cs = std::cos(u * factor * kTwoPi), sn = std::sin(u * factor * kTwoPi);
    const double m[6] = {cs, -sn, (w - (cs * w - sn * h)) / 2, sn, cs, (h - (sn * w + cs * h)) / 2};
    affine(in, s, out, m);
  }
};

/// keras.layers.RandomTranslation: shifted by U(-f, f) of the height and
/// of the width, reflect fill, bilinear.
class RandomTranslation : public RandomImageStep {
public:
  double heightFactor = 0, widthFactor = 0;

protected:
  void augment(const float *in, const Shape &s, float *out, const Draws &draw) const override {
    const double dy = (2 * draw(0) - 1) * heightFactor * double(s[0]);
    const double dx = (2 * draw(1) - 1) * widthFactor * double(s[1]);
    const double m[6] = {1, 0, -dx, 0, 1, -dy};
    affine(in, s, out, m);
  }
};

/// keras.layers.RandomBrightness and RandomContrast on values in
/// [low, high]: brightness adds U(-f, f) (high - low); contrast scales each
/// channel's distance from its mean over the image by U(1 - f, 1 + f);
/// both clip to [low, high].
class RandomColor : public RandomImageStep {
public:
  bool contrast = false; // otherwise brightness
  double factor = 0;
  float low = 0, high = 255;

protected:
  void augment(const float *in, const Shape &s, float *out, const Draws &draw) const override {
    const int64_t n = numElements(s), C = s[2];
    const double u = 2 * draw(0) - 1;
    auto clip = [&](float v) { return std::min(std::max(v, low), high); };
    if (!contrast) {
      const float delta = float(u * factor * double(high - low));
      for (int64_t i = 0; i < n; ++i)
        out[i] = clip(in[i] + delta);
      return;
    }
    const float scale = float(1 + u * factor);
    std::vector<double> mean(size_t(C), 0.0);
    for (int64_t i = 0; i < n; ++i)
      mean[size_t(i % C)] += in[i];
    for (double &m : mean)
      m /= double(n / C);
    for (int64_t i = 0; i < n; ++i) {
      const float m = float(mean[size_t(i % C)]);
      out[i] = clip((in[i] - m) * scale + m);
    }
  }
};

Status makeStep(const TransformSpec &spec, std::shared_ptr<const Transform> *out) {
  OptionReader opts(spec.kind, spec.options);
  const std::string &k = spec.kind;
  if (k == "rescale") {
    auto transform = std::make_shared<Rescale>();
    DLC_RETURN_IF_ERROR(opts.number("scale", &transform->scale), "");
    DLC_RETURN_IF_ERROR(opts.number("offset", &transform->offset, false), "");
    *out = transform;
  } else if (k == "normalize") {
    auto transform = std::make_shared<Normalize>();
    DLC_RETURN_IF_ERROR(opts.numbers("mean", &transform->mean), "");
    DLC_RETURN_IF_ERROR(opts.numbers("std", &transform->std), "");
    for (double v : transform->std)
      if (!(v > 0))
        return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                               "option 'std' of 'normalize' must be positive, got " +
                                   std::to_string(v));
    *out = transform;
  } else if (k == "random_translation") {
    auto transform = std::make_shared<RandomTranslation>();
    transform->kind = k;
    DLC_RETURN_IF_ERROR(opts.number("height_factor", &transform->heightFactor), "");
    DLC_RETURN_IF_ERROR(opts.number("width_factor", &transform->widthFactor), "");
    for (double f : {transform->heightFactor, transform->widthFactor})
      if (!(f >= 0 && f <= 1))
        return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                               "the factors of 'random_translation' must be in [0, 1], got " +
                                   std::to_string(f));
    *out = transform;
  } else if (k == "random_brightness" || k == "random_contrast") {
    auto transform = std::make_shared<RandomColor>();
    transform->kind = k;
    transform->contrast = k == "random_contrast";
    DLC_RETURN_IF_ERROR(opts.number("factor", &transform->factor), "");
    if (!(transform->factor >= 0 && transform->factor <= 1))
      return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                             "option 'factor' of '" + k + "' must be in [0, 1], got " +
                                 std::to_string(transform->factor));
    std::vector<double> range = {0, 255};
    if (opts.has("value_range"))
      DLC_RETURN_IF_ERROR(opts.numbers("value_range", &range), "");
    if (range.size() != 2 || !(range[0] < range[1]))
      return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                             "option 'value_range' of '" + k + "' must be a pair (low, high) with low < high");
    transform->low = float(range[0]), transform->high = float(range[1]);
    *out = transform;
  } else if (k == "imagenet_preprocess") {
    std::string mode;
    DLC_RETURN_IF_ERROR(opts.word("mode", {"caffe", "torch", "tf"}, &mode, "caffe"), "");
    if (mode == "caffe") {
      *out = std::make_shared<ImagenetCaffe>();
    } else {
      auto transform = std::make_shared<ImagenetAffine>();
      transform->torch = mode == "torch";
      *out = transform;
    }
  } else if (k == "resize" || k == "random_crop") {
    int64_t height = 0, width = 0;
    std::string interpolation = "bilinear";
    DLC_RETURN_IF_ERROR(opts.integer("height", 1, 65536, &height), "");
    DLC_RETURN_IF_ERROR(opts.integer("width", 1, 65536, &width), "");
    if (k == "resize") {
      DLC_RETURN_IF_ERROR(
          opts.word("interpolation", {"bilinear", "nearest"}, &interpolation, "bilinear"), "");
      auto transform = std::make_shared<Resize>();
      transform->height = height, transform->width = width, transform->nearest = interpolation == "nearest";
      *out = transform;
    } else {
      auto transform = std::make_shared<RandomCrop>();
      transform->height = height, transform->width = width;
      *out = transform;
    }
  } else if (k == "random_flip") {
    std::string mode;
    DLC_RETURN_IF_ERROR(opts.word("mode", {"horizontal", "vertical", "horizontal_and_vertical"},
                                  &mode, "horizontal"),
                        "");
    auto transform = std::make_shared<RandomFlip>();
    transform->kind = k;
    transform->horizontal = mode != "vertical";
    transform->vertical = mode != "horizontal";
    *out = transform;
  } else if (k == "random_rotation" || k == "random_zoom") {
    auto transform = std::make_shared<RandomAffine>();
    transform->kind = k;
    transform->zoom = k == "random_zoom";
    DLC_RETURN_IF_ERROR(opts.number("factor", &transform->factor), "");
    bool ok =
        transform->zoom ? transform->factor > 0 && transform->factor < 1 : transform->factor >= 0 && transform->factor <= 1;
    if (!ok)
      return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                             "option 'factor' of '" + k + "' must be in " +
                                 (transform->zoom ? "(0, 1)" : "[0, 1]") + ", got " +
                                 std::to_string(transform->factor));
    *out = transform;
  } else {
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           "unknown data transform '" + k +
                               "' (known: rescale, normalize, imagenet_preprocess, resize, "
                               "random_flip, random_rotation, random_crop, random_zoom, "
                               "random_translation, random_brightness, random_contrast)");
  }
  return opts.finish();
}

} // namespace

namespace {
struct Tap {
  int64_t lo, hi; // element offsets (pixel index times channels)
  float t;
};

/// tf.image.resize's half-pixel taps from |inSize| to |outSize|, each
/// offset multiplied by |stride|.
std::vector<Tap> resizeTaps(int64_t inSize, int64_t outSize, int64_t stride) {
  std::vector<Tap> taps(static_cast<size_t>(outSize));
  const float scale = float(inSize) / float(outSize);
  for (int64_t i = 0; i < outSize; ++i) {
    const float src = (float(i) + 0.5f) * scale - 0.5f, f = std::floor(src);
    taps[size_t(i)] = {std::max<int64_t>(int64_t(f), 0) * stride,
                       std::min<int64_t>(int64_t(std::ceil(src)), inSize - 1) * stride, src - f};
  }
  return taps;
}

/// One output row: channels |C| known at compile time where it is 1 or 3
/// (grey and RGB), so the channel loop unrolls.
template <int kChannels>
void resizeRow(const float *top, const float *bottom, float ty, const std::vector<Tap> &xs,
               int64_t channels, float *out) {
  const int64_t C = kChannels > 0 ? kChannels : channels;
  for (size_t x = 0; x < xs.size(); ++x) {
    const Tap &tx = xs[x];
    for (int64_t c = 0; c < C; ++c) {
      const float t = top[tx.lo + c] + (top[tx.hi + c] - top[tx.lo + c]) * tx.t;
      const float b = bottom[tx.lo + c] + (bottom[tx.hi + c] - bottom[tx.lo + c]) * tx.t;
      out[int64_t(x) * C + c] = t + (b - t) * ty;
    }
  }
}
} // namespace

void resizeBilinear(const float *in, int64_t W, int64_t C, int64_t y0, int64_t x0, int64_t wh,
                    int64_t ww, float *out, int64_t oh, int64_t ow) {
  const std::vector<Tap> ys = resizeTaps(wh, oh, 1), xs = resizeTaps(ww, ow, C);
  auto row = C == 3 ? resizeRow<3> : C == 1 ? resizeRow<1> : resizeRow<0>;
  for (int64_t y = 0; y < oh; ++y) {
    const Tap &ty = ys[size_t(y)];
    row(in + ((y0 + ty.lo) * W + x0) * C, in + ((y0 + ty.hi) * W + x0) * C, ty.t, xs, C,
        out + y * ow * C);
  }
}

Status Pipeline::create(const std::vector<TransformSpec> &transforms, const std::vector<int64_t> &inputShape,
                        DType inputDType, Pipeline *out, size_t firstPosition) {
  Pipeline p;
  p.shapes_ = {inputShape};
  if (!transforms.empty() && inputDType != DType::kF32)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, "transform '" + transforms.front().kind +
                                                             "' needs float32 image inputs, but "
                                                             "the source gives " +
                                                             dtypeName(inputDType) +
                                                             " (token windows take no transforms)");
  int64_t largest = 0;
  for (size_t i = 0; i < transforms.size(); ++i) {
    std::string context = "data transform " + std::to_string(firstPosition + i + 1) + " (" +
                          transforms[i].kind + ")";
    std::shared_ptr<const Transform> transform;
    DLC_RETURN_IF_ERROR(makeStep(transforms[i], &transform), context);
    Shape next;
    DLC_RETURN_IF_ERROR(transform->outputShape(p.shapes_.back(), &next), context);
    // A per-channel affine step right after another joins it: one pass.
    auto affine = std::dynamic_pointer_cast<const ChannelAffine>(transform);
    auto previous = p.transforms_.empty()
                        ? nullptr
                        : std::dynamic_pointer_cast<const FoldedAffine>(p.transforms_.back());
    if (affine) {
      auto folded = previous ? std::make_shared<FoldedAffine>(*previous) : std::make_shared<FoldedAffine>();
      folded->steps.push_back(affine);
      folded->prepare(next.empty() ? 1 : next.back());
      if (previous) {
        p.transforms_.back() = folded;
        continue; // the shape is unchanged
      }
      transform = folded;
    }
    p.transforms_.push_back(transform);
    p.positions_.push_back(firstPosition + i);
    p.shapes_.push_back(next);
  }
  for (size_t i = 1; i + 1 < p.shapes_.size(); ++i)
    largest = std::max(largest, numElements(p.shapes_[i]));
  p.scratch_ = p.transforms_.size() > 1 ? 2 * largest : 0;
  *out = std::move(p);
  return okStatus();
}

void Pipeline::apply(const float *in, float *out, bool training, const AugmentKey &key,
                     float *scratch) const {
  if (transforms_.empty()) {
    std::memcpy(out, in, size_t(numElements(shapes_[0])) * sizeof(float));
    return;
  }
  const float *src = in;
  for (size_t i = 0; i < transforms_.size(); ++i) {
    float *dst = i + 1 == transforms_.size() ? out : scratch + (i % 2) * (scratch_ / 2);
    Draws draw{mix64(key.seed ^ mix64(positions_[i] + 1)), key.epoch, key.example * 8};
    transforms_[i]->apply(src, shapes_[i], dst, training, draw);
    src = dst;
  }
}

} // namespace dlc::rt::data
