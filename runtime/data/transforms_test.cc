//===- transforms_test.cc - Preprocessing and augmentation transforms ---------------===//
#include "runtime/data/transforms.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

using namespace dlc::rt;
using namespace dlc::rt::data;

namespace {

using Floats = std::vector<float>;

Pipeline make(const std::vector<TransformSpec> &transforms, const std::vector<int64_t> &shape) {
  Pipeline p;
  Status s = Pipeline::create(transforms, shape, DType::kF32, &p);
  EXPECT_TRUE(s.ok()) << s.toString();
  return p;
}

Floats run(const Pipeline &p, const Floats &in, bool training = false,
           AugmentKey key = AugmentKey{}) {
  Floats out(size_t(numElements(p.outputShape())), -99.0f);
  Floats scratch(size_t(p.scratchElements()));
  p.apply(in.data(), out.data(), training, key, scratch.data());
  return out;
}

Floats iota(size_t n) {
  Floats v(n);
  std::iota(v.begin(), v.end(), 0.0f);
  return v;
}

TEST(DataTransforms, RescaleAndNormalize) {
  Pipeline p = make({{"rescale", {{"scale", 1.0 / 255}}}}, {1, 2, 1});
  Floats out = run(p, {0, 255});
  EXPECT_FLOAT_EQ(out[0], 0);
  EXPECT_FLOAT_EQ(out[1], 1);
  p = make({{"rescale", {{"scale", 2.0}, {"offset", -1.0}}}}, {3});
  EXPECT_EQ(run(p, {0, 1, 2}), (Floats{-1, 1, 3}));

  // Per channel: two pixels of three channels.
  p = make({{"normalize",
             {{"mean", std::vector<double>{1, 2, 3}}, {"std", std::vector<double>{1, 2, 4}}}}},
           {1, 2, 3});
  EXPECT_EQ(run(p, {1, 2, 3, 2, 6, 11}), (Floats{0, 0, 0, 1, 2, 2}));
  p = make({{"normalize", {{"mean", 1.0}, {"std", 2.0}}}}, {2, 1, 1});
  EXPECT_EQ(run(p, {1, 5}), (Floats{0, 2}));

  Pipeline bad;
  Status s = Pipeline::create({{"normalize", {{"mean", std::vector<double>{1, 2}}, {"std", 1.0}}}},
                              {4, 4, 3}, DType::kF32, &bad);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("3 channels"), std::string::npos) << s.toString();
  s = Pipeline::create({{"normalize", {{"mean", 0.0}, {"std", 0.0}}}}, {2}, DType::kF32, &bad);
  EXPECT_FALSE(s.ok());
}

TEST(DataTransforms, ImagenetPreprocessIsKerasPreprocessInput) {
  // keras.applications.imagenet_utils.preprocess_input of one RGB pixel
  // (10, 20, 30), worked by hand from its code.
  Pipeline p = make({{"imagenet_preprocess", {{"mode", std::string("caffe")}}}}, {1, 1, 3});
  Floats out = run(p, {10, 20, 30});
  EXPECT_FLOAT_EQ(out[0], 30 - 103.939f); // B
  EXPECT_FLOAT_EQ(out[1], 20 - 116.779f); // G
  EXPECT_FLOAT_EQ(out[2], 10 - 123.68f);  // R
  p = make({{"imagenet_preprocess", {{"mode", std::string("torch")}}}}, {1, 1, 3});
  out = run(p, {10, 20, 30});
  EXPECT_NEAR(out[0], (10 / 255.0 - 0.485) / 0.229, 1e-6);
  EXPECT_NEAR(out[2], (30 / 255.0 - 0.406) / 0.225, 1e-6);
  // Per-channel affine steps run as one multiply-add: within a float
  // rounding of Keras' x / 127.5 - 1.
  p = make({{"imagenet_preprocess", {{"mode", std::string("tf")}}}}, {2});
  out = run(p, {0, 255});
  EXPECT_NEAR(out[0], -1.0, 1e-6);
  EXPECT_NEAR(out[1], 1.0, 1e-6);
  Pipeline bad;
  Status s = Pipeline::create({{"imagenet_preprocess", {{"mode", std::string("caffe")}}}}, {4, 4, 1},
                              DType::kF32, &bad);
  EXPECT_NE(s.message().find("needs RGB inputs"), std::string::npos) << s.toString();
}

TEST(DataTransforms, TranslationBrightnessAndContrast) {
  // A constant image stays constant under translation (reflect fill); a
  // ramp moves by whole pixels or between them, never beyond its range.
  Pipeline p = make({{"random_translation", {{"height_factor", 0.5}, {"width_factor", 0.5}}}}, {4, 4, 1});
  EXPECT_EQ(run(p, Floats(16, 7.0f), true, {1, 0, 3}), Floats(16, 7.0f));
  Floats ramp = iota(16);
  EXPECT_EQ(run(p, ramp, false), ramp);
  bool moved = false;
  for (uint64_t example = 0; example < 8; ++example) {
    Floats out = run(p, ramp, true, {1, 0, example});
    moved |= out != ramp;
    for (float v : out)
      EXPECT_TRUE(v >= 0 && v <= 15) << v;
  }
  EXPECT_TRUE(moved);

  // Brightness: one shift for the whole image, within the factor of the
  // value range, and clipped to it.
  p = make({{"random_brightness", {{"factor", 0.4}, {"value_range", std::vector<double>{0, 1}}}}}, {1, 3, 1});
  bool shifted = false;
  for (uint64_t example = 0; example < 8; ++example) {
    Floats out = run(p, {0.45f, 0.5f, 0.55f}, true, {1, 0, example});
    float delta = out[1] - 0.5f;
    shifted |= delta != 0;
    EXPECT_LE(std::abs(delta), 0.4f + 1e-6f);
    EXPECT_NEAR(out[0], 0.45f + delta, 1e-6);
    EXPECT_NEAR(out[2], 0.55f + delta, 1e-6);
  }
  EXPECT_TRUE(shifted);
  p = make({{"random_brightness", {{"factor", 1.0}, {"value_range", std::vector<double>{0, 1}}}}}, {1, 2, 1});
  for (uint64_t example = 0; example < 8; ++example) {
    Floats out = run(p, {0, 1}, true, {1, 0, example});
    EXPECT_TRUE(out[0] == 0 || out[1] == 1) << out[0] << " " << out[1]; // one end clips
  }

  // Contrast: the channel mean stays, distances from it scale alike.
  p = make({{"random_contrast", {{"factor", 0.5}}}}, {1, 2, 2});
  for (uint64_t example = 0; example < 8; ++example) {
    Floats out = run(p, {10, 100, 30, 200}, true, {1, 0, example}); // channel means 20 and 150
    float scale = (out[2] - out[0]) / 20.0f;
    EXPECT_GE(scale, 0.5f - 1e-5f);
    EXPECT_LE(scale, 1.5f + 1e-5f);
    EXPECT_NEAR(out[0] + out[2], 40.0f, 1e-3);
    EXPECT_NEAR((out[3] - out[1]) / 100.0f, scale, 1e-5);
  }
  EXPECT_EQ(run(p, {10, 100, 30, 200}, false), (Floats{10, 100, 30, 200}));
}

TEST(DataTransforms, ResizeMatchesTensorFlow) {
  // tf.image.resize([[0, 1], [2, 3]], (4, 4)) with half-pixel centres.
  Pipeline p = make({{"resize", {{"height", 4.0}, {"width", 4.0}}}}, {2, 2, 1});
  EXPECT_EQ(p.outputShape(), (std::vector<int64_t>{4, 4, 1}));
  Floats out = run(p, {0, 1, 2, 3});
  EXPECT_EQ(Floats(out.begin(), out.begin() + 8), (Floats{0, 0.25, 0.75, 1, 0.5, 0.75, 1.25, 1.5}));
  EXPECT_EQ(Floats(out.begin() + 12, out.end()), (Floats{2, 2.25, 2.75, 3}));

  p = make(
      {{"resize", {{"height", 2.0}, {"width", 2.0}, {"interpolation", std::string("nearest")}}}},
      {4, 4, 1});
  EXPECT_EQ(run(p, iota(16)), (Floats{5, 7, 13, 15}));
}

TEST(DataTransforms, RandomFlipIsDeterministicAndOnlyInTraining) {
  Pipeline p =
      make({{"random_flip", {{"mode", std::string("horizontal_and_vertical")}}}}, {2, 3, 1});
  Floats in = iota(6);
  EXPECT_EQ(run(p, in, false), in);
  const Floats h = {2, 1, 0, 5, 4, 3}, v = {3, 4, 5, 0, 1, 2}, hv = {5, 4, 3, 2, 1, 0};
  int seen[4] = {};
  for (uint64_t e = 0; e < 200; ++e) {
    AugmentKey key{7, e / 10, e % 10};
    Floats out = run(p, in, true, key);
    EXPECT_EQ(out, run(p, in, true, key)); // a pure function of the key
    int kind = out == in ? 0 : out == h ? 1 : out == v ? 2 : out == hv ? 3 : -1;
    ASSERT_GE(kind, 0);
    ++seen[kind];
  }
  for (int k = 0; k < 4; ++k)
    EXPECT_GT(seen[k], 25) << k; // about 50 each
}

TEST(DataTransforms, RandomCropTrainsOnWindowsAndCentresAtInference) {
  Pipeline p = make({{"random_crop", {{"height", 2.0}, {"width", 3.0}}}}, {4, 5, 1});
  Floats in = iota(20);
  std::vector<int> offsets;
  for (uint64_t i = 0; i < 100; ++i) {
    Floats out = run(p, in, true, AugmentKey{1, 0, i});
    ASSERT_EQ(out.size(), 6u);
    int y0 = int(out[0]) / 5, x0 = int(out[0]) % 5;
    ASSERT_LE(y0, 2);
    ASSERT_LE(x0, 2);
    for (int y = 0; y < 2; ++y)
      for (int x = 0; x < 3; ++x)
        ASSERT_EQ(out[size_t(y * 3 + x)], float((y0 + y) * 5 + x0 + x));
    offsets.push_back(y0 * 5 + x0);
  }
  std::sort(offsets.begin(), offsets.end());
  EXPECT_EQ(std::unique(offsets.begin(), offsets.end()) - offsets.begin(), 9); // every window

  // Inference: the largest centred 2:3 window of a 4x5 image, 3x5 (rows
  // int(5 * 2 / 3) = 3) from row 0, resized to 2x3.
  Floats centre = run(p, in, false);
  Pipeline ref = make({{"resize", {{"height", 2.0}, {"width", 3.0}}}}, {3, 5, 1});
  EXPECT_EQ(centre, run(ref, Floats(in.begin(), in.begin() + 15)));
}

TEST(DataTransforms, RotationAndZoomKeepTheCentreAndConstants) {
  for (const char *kind : {"random_rotation", "random_zoom"}) {
    Pipeline p = make({{kind, {{"factor", 0.3}}}}, {5, 5, 2});
    Floats flat(50, 3.5f);
    Floats in = iota(50);
    EXPECT_EQ(run(p, in, false), in) << kind; // identity at inference
    bool changed = false;
    for (uint64_t i = 0; i < 20; ++i) {
      AugmentKey key{3, 1, i};
      Floats out = run(p, in, true, key);
      EXPECT_EQ(out, run(p, in, true, key)) << kind;
      EXPECT_NEAR(out[24], in[24], 1e-4) << kind; // centre pixel, channel 0
      EXPECT_NEAR(out[25], in[25], 1e-4) << kind;
      changed |= out != in;
      for (float v : run(p, flat, true, key)) // reflect fill invents no values
        ASSERT_NEAR(v, 3.5f, 1e-5) << kind;
    }
    EXPECT_TRUE(changed) << kind;
  }
  // factor 0 rotation is the identity even in training.
  Pipeline still = make({{"random_rotation", {{"factor", 0.0}}}}, {3, 4, 1});
  EXPECT_EQ(run(still, iota(12), true, AugmentKey{1, 2, 3}), iota(12));
}

TEST(DataTransforms, ChainsStepsThroughScratch) {
  Pipeline p = make({{"resize", {{"height", 4.0}, {"width", 4.0}}},
                     {"random_flip", {}},
                     {"rescale", {{"scale", 2.0}}}},
                    {2, 2, 1});
  EXPECT_EQ(p.outputShape(), (std::vector<int64_t>{4, 4, 1}));
  EXPECT_EQ(p.scratchElements(), 32);
  Floats out = run(p, {0, 1, 2, 3}, false);
  EXPECT_EQ(Floats(out.begin(), out.begin() + 4), (Floats{0, 0.5, 1.5, 2}));
}

TEST(DataTransforms, PerChannelAffineStepsRunAsOneKeepingDrawPositions) {
  // rescale, normalize, imagenet_preprocess(torch) in a row: one pass, the
  // composition of the three (to float rounding), any channel count.
  const std::vector<TransformSpec> affine = {
      {"rescale", {{"scale", 0.5}, {"offset", 3.0}}},
      {"normalize", {{"mean", std::vector<double>{1, 2, 3}}, {"std", std::vector<double>{2, 4, 8}}}},
      {"imagenet_preprocess", {{"mode", std::string("torch")}}}};
  Pipeline p = make(affine, {5, 7, 3});
  EXPECT_EQ(p.scratchElements(), 0); // one step left
  Floats in = iota(105), out = run(p, in);
  const double mean[3] = {0.485, 0.456, 0.406}, deviation[3] = {0.229, 0.224, 0.225};
  for (size_t i = 0; i < in.size(); ++i) {
    const size_t c = i % 3;
    const double normalized = (in[i] * 0.5 + 3.0 - double(c + 1)) / double(2 << c);
    EXPECT_NEAR(out[i], (normalized / 255.0 - mean[c]) / deviation[c], 1e-5) << i;
  }
  // A random step's draws follow its position in the data section, however
  // many steps before it run as one: flip after two folded rescales draws
  // what flip after an unfolded identity step and a rescale draws.
  Pipeline folded = make({{"rescale", {{"scale", 1.0}}}, {"rescale", {{"scale", 1.0}}},
                          {"random_flip", {}}},
                         {2, 3, 1});
  Pipeline unfolded = make({{"random_translation", {{"height_factor", 0.0}, {"width_factor", 0.0}}},
                            {"rescale", {{"scale", 1.0}}},
                            {"random_flip", {}}},
                           {2, 3, 1});
  Pipeline elsewhere = make({{"rescale", {{"scale", 1.0}}}, {"random_flip", {}}}, {2, 3, 1});
  int differ = 0;
  for (uint64_t e = 0; e < 64; ++e) {
    AugmentKey key{11, 0, e};
    EXPECT_EQ(run(folded, iota(6), true, key), run(unfolded, iota(6), true, key)) << e;
    differ += run(folded, iota(6), true, key) != run(elsewhere, iota(6), true, key);
  }
  EXPECT_GT(differ, 10); // position 1 draws otherwise than position 2
}

TEST(DataTransforms, RejectsBadSpecs) {
  Pipeline p;
  Status s = Pipeline::create({{"rescale", {{"scale", 1.0}}}}, {20}, DType::kI32, &p);
  EXPECT_NE(s.message().find("token windows take no transforms"), std::string::npos) << s.toString();
  s = Pipeline::create({{"blur", {}}}, {2, 2, 1}, DType::kF32, &p);
  EXPECT_NE(s.message().find("unknown data transform 'blur'"), std::string::npos) << s.toString();
  s = Pipeline::create({{"rescale", {{"scael", 1.0}}}}, {2, 2, 1}, DType::kF32, &p);
  EXPECT_NE(s.message().find("is required"), std::string::npos) << s.toString();
  s = Pipeline::create({{"rescale", {{"scale", 1.0}, {"bias", 1.0}}}}, {2}, DType::kF32, &p);
  EXPECT_NE(s.message().find("'rescale' has no option 'bias'"), std::string::npos) << s.toString();
  s = Pipeline::create({{"random_flip", {{"mode", std::string("diagonal")}}}}, {2, 2, 1},
                       DType::kF32, &p);
  EXPECT_NE(s.message().find("must be one of horizontal"), std::string::npos) << s.toString();
  s = Pipeline::create({{"resize", {{"height", 2.0}, {"width", 2.0}}}}, {4}, DType::kF32, &p);
  EXPECT_NE(s.message().find("needs images"), std::string::npos) << s.toString();
  s = Pipeline::create({{"random_zoom", {{"factor", 1.0}}}}, {2, 2, 1}, DType::kF32, &p);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("data transform 1 (random_zoom)"), std::string::npos) << s.toString();
}

} // namespace
