//===- Augment.cpp - Data transforms of a training batch, in float64 ------===//
//
// dl.augment's reference, written from Keras' preprocessing layers and
// TensorFlow's sampling (half-pixel rules, ImageProjectiveTransformV3 with
// reflect fill and bilinear interpolation), every coordinate and value in
// float64. Only the random draws are shared with the backends: they are
// the op's definition (runtime/counter_rng.h), not arithmetic to check.
//
//===----------------------------------------------------------------------===//
#include "compiler/Reference/Kernels.h"

#include "runtime/counter_rng.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace dlc::ref {
namespace {

/// TF's REFLECT fill: (d c b a | a b c d | d c b a) on [0, len - 1].
double reflect(double v, int64_t len) {
  if (len <= 1)
    return 0;
  const double size2 = 2.0 * double(len);
  if (v < 0) {
    v += size2 * std::floor(-v / size2);
    v = v < -double(len) ? v + size2 : -v - 1;
  } else if (v > double(len - 1)) {
    v -= size2 * std::floor(v / size2);
    if (v >= double(len))
      v = size2 - v - 1;
  }
  return std::clamp(v, 0.0, double(len - 1));
}

/// Pixel (y, x) of channel c of one [H, W, C] image through the inverse map
/// m; a neighbour past the last row or column is TF's fill value 0.
double sample(const double *image, int64_t H, int64_t W, int64_t C, int64_t y, int64_t x, int64_t c,
              const double m[6]) {
  const double sx = reflect(m[0] * double(x) + m[1] * double(y) + m[2], W);
  const double sy = reflect(m[3] * double(x) + m[4] * double(y) + m[5], H);
  const int64_t x0 = int64_t(std::floor(sx)), y0 = int64_t(std::floor(sy));
  const double wx = sx - double(x0), wy = sy - double(y0);
  auto at = [&](int64_t yy, int64_t xx) {
    return yy < H && xx < W ? image[(yy * W + xx) * C + c] : 0.0;
  };
  return (1 - wy) * ((1 - wx) * at(y0, x0) + wx * at(y0, x0 + 1)) +
         wy * ((1 - wx) * at(y0 + 1, x0) + wx * at(y0 + 1, x0 + 1));
}

} // namespace

double AugmentSpec::number(const std::string &name, double fallback) const {
  auto it = numbers.find(name);
  return it == numbers.end() || it->second.empty() ? fallback : it->second.front();
}

RefTensor augment(const RefTensor &x, const RefTensor &ids, const RefTensor &seed, const AugmentSpec &spec) {
  if (spec.kind == "random_crop") {
    // Training's random window (the step crops only images at least its size).
    const int64_t N = x.dim(0), H = x.dim(1), W = x.dim(2), C = x.dim(3);
    const int64_t h = int64_t(spec.number("height", 0)), w = int64_t(spec.number("width", 0));
    const uint64_t key = rt::mix64(uint64_t(int64_t(seed[0])) ^ rt::mix64(uint64_t(spec.position) + 1));
    RefTensor y({N, h, w, C});
    for (int64_t e = 0; e < N; ++e) {
      const uint64_t base = uint64_t(int64_t(ids[e])) * 8, epoch = uint64_t(int64_t(seed[1]));
      const int64_t y0 = std::min(int64_t(std::floor(rt::uniform01(key, epoch, base) * double(H - h + 1))), H - h);
      const int64_t x0 = std::min(int64_t(std::floor(rt::uniform01(key, epoch, base + 1) * double(W - w + 1))), W - w);
      for (int64_t r = 0; r < h; ++r)
        for (int64_t c = 0; c < w * C; ++c)
          y[((e * h + r) * w) * C + c] = x[((e * H + y0 + r) * W + x0) * C + c];
    }
    return y;
  }
  RefTensor y = x;
  const int64_t N = x.dim(0), C = x.dim(-1), size = x.size() / N;
  const int64_t H = x.rank() == 4 ? x.dim(1) : 1, W = x.rank() == 4 ? x.dim(2) : 1;
  const uint64_t key = rt::mix64(uint64_t(int64_t(seed[0])) ^ rt::mix64(uint64_t(spec.position) + 1));
  const uint64_t epoch = uint64_t(int64_t(seed[1]));
  auto perChannel = [&](const std::string &name) {
    std::vector<double> v = spec.numbers.count(name) ? spec.numbers.at(name) : std::vector<double>{0};
    if (v.size() == 1)
      v.assign(size_t(C), v[0]);
    return v;
  };
  std::vector<double> range = {0, 255};
  if (spec.numbers.count("value_range"))
    range = spec.numbers.at("value_range");
  const std::string &kind = spec.kind;
  for (int64_t e = 0; e < N; ++e) {
    const uint64_t base = uint64_t(int64_t(ids[e])) * 8;
    auto draw = [&](uint64_t k) { return rt::uniform01(key, epoch, base + k); };
    const double *in = x.data.data() + e * size;
    double *out = y.data.data() + e * size;
    auto word = [&](const std::string &name, const std::string &fallback) {
      auto it = spec.words.find(name);
      return it == spec.words.end() ? fallback : it->second;
    };
    if (kind == "rescale") {
      for (int64_t i = 0; i < size; ++i)
        out[i] = in[i] * spec.number("scale", 1) + spec.number("offset", 0);
    } else if (kind == "normalize") {
      std::vector<double> mean = perChannel("mean"), deviation = perChannel("std");
      for (int64_t i = 0; i < size; ++i)
        out[i] = (in[i] - mean[size_t(i % C)]) / deviation[size_t(i % C)];
    } else if (kind == "imagenet_preprocess") {
      const std::string mode = word("mode", "caffe");
      const double rgbMean[3] = {0.485, 0.456, 0.406}, rgbStd[3] = {0.229, 0.224, 0.225};
      const double bgrMean[3] = {103.939, 116.779, 123.68};
      for (int64_t i = 0; i < size; ++i) {
        const int64_t c = i % C;
        if (mode == "caffe")
          out[i] = in[i - c + 2 - c] - bgrMean[c];
        else if (mode == "torch")
          out[i] = (in[i] / 255.0 - rgbMean[c]) / rgbStd[c];
        else
          out[i] = in[i] / 127.5 - 1.0;
      }
    } else if (kind == "random_brightness") {
      const double delta = (2 * draw(0) - 1) * spec.number("factor", 0) * (range[1] - range[0]);
      for (int64_t i = 0; i < size; ++i)
        out[i] = std::clamp(in[i] + delta, range[0], range[1]);
    } else if (kind == "random_contrast") {
      const double scale = 1 + (2 * draw(0) - 1) * spec.number("factor", 0);
      for (int64_t c = 0; c < C; ++c) {
        double mean = 0;
        for (int64_t p = 0; p < H * W; ++p)
          mean += in[p * C + c];
        mean /= double(H * W);
        for (int64_t p = 0; p < H * W; ++p)
          out[p * C + c] = std::clamp((in[p * C + c] - mean) * scale + mean, range[0], range[1]);
      }
    } else if (kind == "random_flip") {
      const std::string mode = word("mode", "horizontal");
      const bool flipX = mode != "vertical" && draw(0) < 0.5;
      const bool flipY = mode != "horizontal" && draw(1) < 0.5;
      for (int64_t yy = 0; yy < H; ++yy)
        for (int64_t xx = 0; xx < W; ++xx)
          for (int64_t c = 0; c < C; ++c)
            out[(yy * W + xx) * C + c] =
                in[((flipY ? H - 1 - yy : yy) * W + (flipX ? W - 1 - xx : xx)) * C + c];
    } else {
      // keras.layers.RandomRotation / RandomZoom / RandomTranslation as the
      // inverse map from output to input pixel, about the image's centre.
      const double w = double(W - 1), h = double(H - 1);
      double m[6];
      if (kind == "random_rotation") {
        const double angle = (2 * draw(0) - 1) * spec.number("factor", 0) * 2 * M_PI;
        const double cs = std::cos(angle), sn = std::sin(angle);
        const double map[6] = {cs, -sn, (w - (cs * w - sn * h)) / 2, sn, cs, (h - (sn * w + cs * h)) / 2};
        std::copy(map, map + 6, m);
      } else if (kind == "random_zoom") {
        const double z = 1 + (2 * draw(0) - 1) * spec.number("factor", 0);
        const double map[6] = {z, 0, w / 2 * (1 - z), 0, z, h / 2 * (1 - z)};
        std::copy(map, map + 6, m);
      } else if (kind == "random_translation") {
        const double dy = (2 * draw(0) - 1) * spec.number("height_factor", 0) * double(H);
        const double dx = (2 * draw(1) - 1) * spec.number("width_factor", 0) * double(W);
        const double map[6] = {1, 0, -dx, 0, 1, -dy};
        std::copy(map, map + 6, m);
      } else {
        throw std::invalid_argument("no reference for data transform '" + kind + "'");
      }
      for (int64_t yy = 0; yy < H; ++yy)
        for (int64_t xx = 0; xx < W; ++xx)
          for (int64_t c = 0; c < C; ++c)
            out[(yy * W + xx) * C + c] = sample(in, H, W, C, yy, xx, c, m);
    }
  }
  return y;
}

} // namespace dlc::ref
