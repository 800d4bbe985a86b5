// RUN: dlc-opt %s --split-input-file --verify-diagnostics

func.func @resize(%x: tensor<2x8x8x3xf32>, %ids: tensor<2xi64>, %seed: tensor<2xi64>) -> tensor<2x4x4x3xf32> {
  // expected-error@+1 {{'resize' changes the example's shape; dl.augment takes the transforms that keep it, and random_crop}}
  %y = dl.augment %x, %ids, %seed {config = #dl.config<"resize", {height = 4 : i64, interpolation = "bilinear", width = 4 : i64}>, position = 0 : i64} : (tensor<2x8x8x3xf32>, tensor<2xi64>, tensor<2xi64>) -> tensor<2x4x4x3xf32>
  return %y : tensor<2x4x4x3xf32>
}

// -----

func.func @crop_keeps_channels(%x: tensor<2x8x8x3xf32>, %ids: tensor<2xi64>, %seed: tensor<2xi64>) -> tensor<2x4x4x1xf32> {
  // expected-error@+1 {{random_crop maps [N, H, W, C] images to [N, height, width, C]}}
  %y = dl.augment %x, %ids, %seed {config = #dl.config<"random_crop", {height = 4 : i64, width = 4 : i64}>, position = 0 : i64} : (tensor<2x8x8x3xf32>, tensor<2xi64>, tensor<2xi64>) -> tensor<2x4x4x1xf32>
  return %y : tensor<2x4x4x1xf32>
}

// -----

func.func @crop_larger(%x: tensor<2x3x8x3xf32>, %ids: tensor<2xi64>, %seed: tensor<2xi64>) -> tensor<2x4x4x3xf32> {
  // expected-error@+1 {{random_crop of 4x4 from smaller images}}
  %y = dl.augment %x, %ids, %seed {config = #dl.config<"random_crop", {height = 4 : i64, width = 4 : i64}>, position = 0 : i64} : (tensor<2x3x8x3xf32>, tensor<2xi64>, tensor<2xi64>) -> tensor<2x4x4x3xf32>
  return %y : tensor<2x4x4x3xf32>
}

// -----

func.func @not_an_image(%x: tensor<2x12xf32>, %ids: tensor<2xi64>, %seed: tensor<2xi64>) -> tensor<2x12xf32> {
  // expected-error@+1 {{'random_flip' needs a batch of images [N, height, width, channels]}}
  %y = dl.augment %x, %ids, %seed {config = #dl.config<"random_flip", {mode = "horizontal"}>, position = 0 : i64} : (tensor<2x12xf32>, tensor<2xi64>, tensor<2xi64>) -> tensor<2x12xf32>
  return %y : tensor<2x12xf32>
}

// -----

func.func @caffe_grey(%x: tensor<2x8x8x1xf32>, %ids: tensor<2xi64>, %seed: tensor<2xi64>) -> tensor<2x8x8x1xf32> {
  // expected-error@+1 {{imagenet_preprocess in mode caffe needs RGB inputs}}
  %y = dl.augment %x, %ids, %seed {config = #dl.config<"imagenet_preprocess", {mode = "caffe"}>, position = 0 : i64} : (tensor<2x8x8x1xf32>, tensor<2xi64>, tensor<2xi64>) -> tensor<2x8x8x1xf32>
  return %y : tensor<2x8x8x1xf32>
}

// -----

func.func @ids_per_example(%x: tensor<2x8x8x3xf32>, %ids: tensor<3xi64>, %seed: tensor<2xi64>) -> tensor<2x8x8x3xf32> {
  // expected-error@+1 {{example_ids must hold one index per example}}
  %y = dl.augment %x, %ids, %seed {config = #dl.config<"random_flip", {mode = "horizontal"}>, position = 0 : i64} : (tensor<2x8x8x3xf32>, tensor<3xi64>, tensor<2xi64>) -> tensor<2x8x8x3xf32>
  return %y : tensor<2x8x8x3xf32>
}

// -----

func.func @seed_pair(%x: tensor<2x8x8x3xf32>, %ids: tensor<2xi64>, %seed: tensor<1xi64>) -> tensor<2x8x8x3xf32> {
  // expected-error@+1 {{augment_seed must be (seed, epoch), tensor<2xi64>}}
  %y = dl.augment %x, %ids, %seed {config = #dl.config<"random_flip", {mode = "horizontal"}>, position = 0 : i64} : (tensor<2x8x8x3xf32>, tensor<2xi64>, tensor<1xi64>) -> tensor<2x8x8x3xf32>
  return %y : tensor<2x8x8x3xf32>
}

// -----

func.func @value_range(%x: tensor<2x8x8x3xf32>, %ids: tensor<2xi64>, %seed: tensor<2xi64>) -> tensor<2x8x8x3xf32> {
  // expected-error@+1 {{option 'value_range' of 'random_brightness' must be a pair (low, high) with low < high}}
  %y = dl.augment %x, %ids, %seed {config = #dl.config<"random_brightness", {factor = 0.2 : f64, value_range = [1.0, 0.0]}>, position = 0 : i64} : (tensor<2x8x8x3xf32>, tensor<2xi64>, tensor<2xi64>) -> tensor<2x8x8x3xf32>
  return %y : tensor<2x8x8x3xf32>
}

// -----

func.func @unknown_option(%x: tensor<2x8x8x3xf32>, %ids: tensor<2xi64>, %seed: tensor<2xi64>) -> tensor<2x8x8x3xf32> {
  // expected-error@+1 {{'random_zoom'}}
  %y = dl.augment %x, %ids, %seed {config = #dl.config<"random_zoom", {factor = 0.2 : f64, fill = 1.0 : f64}>, position = 0 : i64} : (tensor<2x8x8x3xf32>, tensor<2xi64>, tensor<2xi64>) -> tensor<2x8x8x3xf32>
  return %y : tensor<2x8x8x3xf32>
}
