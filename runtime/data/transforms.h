//===- transforms.h - Preprocessing and augmentation of examples ----------===//
//
// The transforms of a data section, applied to every example in order, with the
// semantics of Keras' preprocessing layers on one channels-last image:
//
//   rescale(scale, offset=0)       x * scale + offset
//   normalize(mean, std)           (x - mean) / std; scalars or one per channel
//   imagenet_preprocess(mode=caffe|torch|tf)
//                                  keras.applications' preprocess_input on
//                                  0-255 RGB: caffe (VGG16, ResNet50) to BGR
//                                  less ImageNet's BGR means; torch x/255
//                                  normalized by ImageNet's RGB statistics;
//                                  tf x/127.5 - 1
//   resize(height, width, interpolation=bilinear|nearest)
//                                  tf.image.resize, half-pixel centres, no
//                                  antialiasing
//   random_flip(mode)              each flip direction with probability 1/2
//   random_rotation(factor)        angle uniform in ±factor·2π, about the
//                                  centre; reflect fill, bilinear
//   random_crop(height, width)     a random window; at inference (or when the
//                                  image is smaller) the largest centred
//                                  window of the target aspect ratio,
//                                  resized bilinearly to the target
//   random_zoom(factor)            both axes scaled by 1 + U(-factor, factor)
//                                  about the centre (> 1 zooms out); reflect
//                                  fill, bilinear
//   random_translation(height_factor, width_factor)
//                                  shifted by U(-f, f) of the height and of
//                                  the width; reflect fill, bilinear
//   random_brightness(factor, value_range=(0, 255))
//                                  + U(-f, f) (high - low), clipped
//   random_contrast(factor, value_range=(0, 255))
//                                  each channel's distance from its image
//                                  mean times U(1 - f, 1 + f), clipped
//
// Random transforms act only in training (random_crop then centre-crops). Unlike
// Keras, which draws one crop window per batch, every draw is per example
// and a pure function of (seed, epoch, example index, transform position) through
// counter_rng, so an epoch's augmentations do not depend on the batch size
// or on resuming mid-epoch.
//
// Steps need float32 inputs; rescale and normalize take any rank (channels
// last), the spatial transforms [H, W, C] images.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/data/options.h"
#include "runtime/tensor.h"

#include <memory>

namespace dlc::rt::data {

struct TransformSpec {
  std::string kind; // "rescale", "random_flip", ...
  Options options;
};

/// What a random draw is keyed by.
struct AugmentKey {
  uint64_t seed = 0;
  uint64_t epoch = 0;
  uint64_t example = 0; // index in the dataset, not the position in a batch
};

class Transform; // one transform's implementation (transforms.cc)

/// Bilinear resize of the window [y0, y0+wh) x [x0, x0+ww) of an H x W x C
/// image |in| to oh x ow (tf.image.resize: half-pixel centres, no
/// antialiasing), as `resize` and image_folder's image_size do it.
void resizeBilinear(const float *in, int64_t W, int64_t C, int64_t y0, int64_t x0, int64_t wh,
                    int64_t ww, float *out, int64_t oh, int64_t ow);

class Pipeline {
public:
  /// Checks every transform's options against |inputShape|/|inputDType| and
  /// works out the shape after each. No transforms is the identity.
  /// |transforms| sit at |firstPosition| on in the data section, which keys
  /// their draws (a training step's dl.augment runs the later ones alone).
  static Status create(const std::vector<TransformSpec> &transforms, const std::vector<int64_t> &inputShape,
                       DType inputDType, Pipeline *out, size_t firstPosition = 0);

  bool empty() const { return transforms_.empty(); }
  const std::vector<int64_t> &inputShape() const { return shapes_.front(); }
  const std::vector<int64_t> &outputShape() const { return shapes_.back(); }
  /// Floats of scratch that apply() needs (0 for at most one transform).
  int64_t scratchElements() const { return scratch_; }

  /// Transforms one example: |in| holds inputShape(), |out| receives
  /// outputShape() (no overlap). Thread-safe given distinct out/scratch.
  void apply(const float *in, float *out, bool training, const AugmentKey &key,
             float *scratch) const;

private:
  std::vector<std::shared_ptr<const Transform>> transforms_;
  /// Each transform's position in the data section (its draws are keyed by
  /// it): consecutive per-channel affine steps run as one.
  std::vector<size_t> positions_;
  std::vector<std::vector<int64_t>> shapes_ = {{}}; // before each transform, then the output
  int64_t scratch_ = 0;
};

} // namespace dlc::rt::data
