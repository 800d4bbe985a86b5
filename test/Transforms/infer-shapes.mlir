// RUN: dlc-opt %s -split-input-file --dlc-infer-shapes | FileCheck %s
// RUN: dlc-opt %s -split-input-file --dlc-infer-shapes=batch-size=32 | FileCheck %s --check-prefix=BATCH

// Tests that unranked intermediates are filled in order, each op seeing its
// operand's freshly inferred type, and that the function result follows.
// CHECK-LABEL: func @mnist_unranked
// CHECK-SAME: (%[[X:.*]]: tensor<?x28x28x1xf32>, %[[K:.*]]: tensor<3x3x1x32xf32>, %[[B:.*]]: tensor<32xf32>, %[[D:.*]]: tensor<5408x10xf32>) -> tensor<?x10xf32>
// CHECK-NEXT: %[[C:.*]] = dl.conv2d %[[X]], %[[K]], %[[B]] {{.*}} -> tensor<?x26x26x32xf32>
// CHECK-NEXT: %[[R:.*]] = dl.relu %[[C]] : (tensor<?x26x26x32xf32>) -> tensor<?x26x26x32xf32>
// CHECK-NEXT: %[[P:.*]] = dl.max_pool2d %[[R]] {{.*}} : (tensor<?x26x26x32xf32>) -> tensor<?x13x13x32xf32>
// CHECK-NEXT: %[[F:.*]] = dl.flatten %[[P]] : (tensor<?x13x13x32xf32>) -> tensor<?x5408xf32>
// CHECK-NEXT: %[[Y:.*]] = dl.dense %[[F]], %[[D]] : (tensor<?x5408xf32>, tensor<5408x10xf32>) -> tensor<?x10xf32>
// CHECK-NEXT: return %[[Y]] : tensor<?x10xf32>

// With a batch size, the argument's batch is fixed first and flows through.
// BATCH-LABEL: func @mnist_unranked
// BATCH-SAME: (%{{.*}}: tensor<32x28x28x1xf32>, %{{.*}}: tensor<3x3x1x32xf32>, %{{.*}}: tensor<32xf32>, %{{.*}}: tensor<5408x10xf32>) -> tensor<32x10xf32>
// BATCH-NEXT: dl.conv2d {{.*}} : (tensor<32x28x28x1xf32>, tensor<3x3x1x32xf32>, tensor<32xf32>) -> tensor<32x26x26x32xf32>
// BATCH-NEXT: dl.relu {{.*}} -> tensor<32x26x26x32xf32>
// BATCH-NEXT: dl.max_pool2d {{.*}} -> tensor<32x13x13x32xf32>
// BATCH-NEXT: dl.flatten {{.*}} -> tensor<32x5408xf32>
// BATCH-NEXT: dl.dense {{.*}} : (tensor<32x5408xf32>, tensor<5408x10xf32>) -> tensor<32x10xf32>
// BATCH-NEXT: return {{.*}} : tensor<32x10xf32>
func.func @mnist_unranked(%x: tensor<?x28x28x1xf32>, %k: tensor<3x3x1x32xf32>, %b: tensor<32xf32>, %d: tensor<5408x10xf32>) -> tensor<*xf32> {
  %0 = dl.conv2d %x, %k, %b {dilation = array<i64: 1, 1>, padding = #dl<padding valid>, strides = array<i64: 1, 1>} : (tensor<?x28x28x1xf32>, tensor<3x3x1x32xf32>, tensor<32xf32>) -> tensor<*xf32>
  %1 = dl.relu %0 : (tensor<*xf32>) -> tensor<*xf32>
  %2 = dl.max_pool2d %1 {padding = #dl<padding valid>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<*xf32>) -> tensor<*xf32>
  %3 = dl.flatten %2 : (tensor<*xf32>) -> tensor<*xf32>
  %4 = dl.dense %3, %d : (tensor<*xf32>, tensor<5408x10xf32>) -> tensor<*xf32>
  return %4 : tensor<*xf32>
}

// -----

// Tests that ranked results written less refined than inferred are refined,
// and that the function result types are updated.
// CHECK-LABEL: func @less_refined
// CHECK-SAME: -> (tensor<?x13x13x8xf32>, tensor<?x8xf32>)
// CHECK-NEXT: dl.conv2d {{.*}} -> tensor<?x26x26x8xf32>
// CHECK-NEXT: dl.max_pool2d {{.*}} : (tensor<?x26x26x8xf32>) -> tensor<?x13x13x8xf32>
// CHECK-NEXT: dl.global_avg_pool2d {{.*}} : (tensor<?x13x13x8xf32>) -> tensor<?x8xf32>
// CHECK-NEXT: return {{.*}} : tensor<?x13x13x8xf32>, tensor<?x8xf32>

// BATCH-LABEL: func @less_refined
// BATCH-SAME: -> (tensor<32x13x13x8xf32>, tensor<32x8xf32>)
func.func @less_refined(%x: tensor<?x28x28x1xf32>, %k: tensor<3x3x1x8xf32>) -> (tensor<?x?x?x?xf32>, tensor<?x?xf32>) {
  %0 = dl.conv2d %x, %k {dilation = array<i64: 1, 1>, padding = #dl<padding valid>, strides = array<i64: 1, 1>} : (tensor<?x28x28x1xf32>, tensor<3x3x1x8xf32>) -> tensor<?x?x?x?xf32>
  %1 = dl.max_pool2d %0 {padding = #dl<padding valid>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<?x?x?x?xf32>) -> tensor<?x?x?x?xf32>
  %2 = dl.global_avg_pool2d %1 : (tensor<?x?x?x?xf32>) -> tensor<?x?xf32>
  return %1, %2 : tensor<?x?x?x?xf32>, tensor<?x?xf32>
}

// -----

// Tests that a dimension the IR already knew is kept where the shape function
// only knows `?`: the written result has a width of 10 while the input's
// width is dynamic; the rank comes from the shape function.
// CHECK-LABEL: func @keeps_known_dims
// CHECK-SAME: -> tensor<?x10xf32>
// CHECK-NEXT: %[[R:.*]] = dl.relu %{{.*}} : (tensor<?x?xf32>) -> tensor<?x10xf32>
// CHECK-NEXT: dl.softmax %[[R]] {axis = -1 : i64} : (tensor<?x10xf32>) -> tensor<?x10xf32>
// BATCH-LABEL: func @keeps_known_dims
// BATCH-SAME: -> tensor<32x10xf32>
func.func @keeps_known_dims(%x: tensor<?x?xf32>) -> tensor<*xf32> {
  %0 = dl.relu %x : (tensor<?x?xf32>) -> tensor<?x10xf32>
  %1 = dl.softmax %0 {axis = -1 : i64} : (tensor<?x10xf32>) -> tensor<*xf32>
  return %1 : tensor<*xf32>
}

// -----

// Tests that a function argument whose batch is already static keeps it,
// batch size or not, and that non-batch dynamic dimensions stay dynamic.
// CHECK-LABEL: func @static_batch
// CHECK-SAME: (%{{.*}}: tensor<8x?xf32>, %{{.*}}: tensor<16x4xf32>) -> tensor<8x4xf32>
// CHECK-NEXT: dl.dense {{.*}} : (tensor<8x?xf32>, tensor<16x4xf32>) -> tensor<8x4xf32>

// BATCH-LABEL: func @static_batch
// BATCH-SAME: (%{{.*}}: tensor<8x?xf32>, %{{.*}}: tensor<16x4xf32>) -> tensor<8x4xf32>
// BATCH-NEXT: dl.dense {{.*}} : (tensor<8x?xf32>, tensor<16x4xf32>) -> tensor<8x4xf32>
func.func @static_batch(%x: tensor<8x?xf32>, %k: tensor<16x4xf32>) -> tensor<*xf32> {
  %0 = dl.dense %x, %k : (tensor<8x?xf32>, tensor<16x4xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

// Tests a graph with two inputs: the batch of both is fixed, concat sums the
// joined axis, add merges known dimensions, and the sequence path goes
// through embedding and an lstm returning every state.
// CHECK-LABEL: func @two_inputs
// CHECK-SAME: -> tensor<?x20x12xf32>
// CHECK-NEXT: %[[E:.*]] = dl.embedding {{.*}} -> tensor<?x20x8xf32>
// CHECK-NEXT: %[[L:.*]] = dl.lstm %[[E]], {{.*}} {return_sequences} : (tensor<?x20x8xf32>, tensor<8x16xf32>, tensor<4x16xf32>) -> tensor<?x20x4xf32>
// CHECK-NEXT: %[[C:.*]] = dl.concat %[[E]], %[[L]] {axis = 2 : i64} : (tensor<?x20x8xf32>, tensor<?x20x4xf32>) -> tensor<?x20x12xf32>
// CHECK-NEXT: %[[A:.*]] = dl.add %[[C]], %{{.*}} : (tensor<?x20x12xf32>, tensor<?x20x12xf32>) -> tensor<?x20x12xf32>
// CHECK-NEXT: return %[[A]] : tensor<?x20x12xf32>

// BATCH-LABEL: func @two_inputs
// BATCH-SAME: (%{{.*}}: tensor<32x20xi32>, %{{.*}}: tensor<32x20x12xf32>, %{{.*}}: tensor<100x8xf32>, %{{.*}}: tensor<8x16xf32>, %{{.*}}: tensor<4x16xf32>) -> tensor<32x20x12xf32>
// BATCH: dl.add {{.*}} : (tensor<32x20x12xf32>, tensor<32x20x12xf32>) -> tensor<32x20x12xf32>
func.func @two_inputs(%ids: tensor<?x20xi32>, %other: tensor<?x20x12xf32>, %t: tensor<100x8xf32>, %k: tensor<8x16xf32>, %r: tensor<4x16xf32>) -> tensor<*xf32> {
  %0 = dl.embedding %ids, %t : (tensor<?x20xi32>, tensor<100x8xf32>) -> tensor<*xf32>
  %1 = dl.lstm %0, %k, %r {return_sequences} : (tensor<*xf32>, tensor<8x16xf32>, tensor<4x16xf32>) -> tensor<*xf32>
  %2 = dl.concat %0, %1 {axis = 2 : i64} : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  %3 = dl.add %2, %other : (tensor<*xf32>, tensor<?x20x12xf32>) -> tensor<*xf32>
  return %3 : tensor<*xf32>
}

// -----

// Tests that what cannot be known stays unknown: an unranked argument keeps
// its type (there is no batch to fix) and so do the results computed from it.
// CHECK-LABEL: func @unranked_argument
// CHECK-SAME: (%{{.*}}: tensor<*xf32>) -> tensor<*xf32>
// CHECK-NEXT: dl.relu %{{.*}} : (tensor<*xf32>) -> tensor<*xf32>

// BATCH-LABEL: func @unranked_argument
// BATCH-SAME: (%{{.*}}: tensor<*xf32>) -> tensor<*xf32>
// BATCH-NEXT: dl.relu %{{.*}} : (tensor<*xf32>) -> tensor<*xf32>
func.func @unranked_argument(%x: tensor<*xf32>) -> tensor<*xf32> {
  %0 = dl.relu %x : (tensor<*xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

// Tests that every function of the module is processed, and that a
// declaration (no body) is left alone.
// CHECK-LABEL: func private @external(tensor<?x4xf32>) -> tensor<?x4xf32>
// CHECK-LABEL: func @first
// CHECK-SAME: -> tensor<?x4xf32>
// CHECK-LABEL: func @second
// CHECK-SAME: -> tensor<?x3xf32>

// BATCH-LABEL: func private @external(tensor<?x4xf32>) -> tensor<?x4xf32>
// BATCH-LABEL: func @first
// BATCH-SAME: (%{{.*}}: tensor<32x4xf32>) -> tensor<32x4xf32>
// BATCH-LABEL: func @second
// BATCH-SAME: (%{{.*}}: tensor<32x3xf32>) -> tensor<32x3xf32>
func.func private @external(tensor<?x4xf32>) -> tensor<?x4xf32>
func.func @first(%x: tensor<?x4xf32>) -> tensor<*xf32> {
  %0 = dl.tanh %x : (tensor<?x4xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}
func.func @second(%x: tensor<?x3xf32>) -> tensor<*xf32> {
  %0 = dl.sigmoid %x : (tensor<?x3xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

// Tests that results of non-dl ops and dl ops without a shape function
// (dl.weight) are not touched, and that parameters are not affected by the
// batch size.
// CHECK: dl.param @"dense/kernel" : tensor<4x2xf32> init glorot_uniform
// CHECK-LABEL: func @with_weights
// CHECK-NEXT: %[[K:.*]] = dl.weight @"dense/kernel" : tensor<4x2xf32>
// CHECK-NEXT: dl.dense %{{.*}}, %[[K]] : (tensor<?x4xf32>, tensor<4x2xf32>) -> tensor<?x2xf32>

// BATCH: dl.param @"dense/kernel" : tensor<4x2xf32> init glorot_uniform
// BATCH-LABEL: func @with_weights
// BATCH-NEXT: %[[K:.*]] = dl.weight @"dense/kernel" : tensor<4x2xf32>
// BATCH-NEXT: dl.dense %{{.*}}, %[[K]] : (tensor<32x4xf32>, tensor<4x2xf32>) -> tensor<32x2xf32>
dl.param @"dense/kernel" : tensor<4x2xf32> init glorot_uniform
func.func @with_weights(%x: tensor<?x4xf32>) -> tensor<*xf32> {
  %k = dl.weight @"dense/kernel" : tensor<4x2xf32>
  %0 = dl.dense %x, %k : (tensor<?x4xf32>, tensor<4x2xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}
