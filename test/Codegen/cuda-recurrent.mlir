// RUN: dlc-opt %s --split-input-file --dlc-fuse --dlc-select-kernels=targets=cuda --dlc-print-cuda -o /dev/null | FileCheck %s

// Tests that the LSTM gradient keeps each row's recomputed states in its
// scratch (global memory): 200 steps of 256 units, 400 KB a row, run where
// shared memory held only short sequences; one step's arrays stay in shared
// memory.
// CHECK-LABEL: // lstm_grad from
// CHECK: shared 10272 bytes
// CHECK: float *__restrict__ scratch) {
// CHECK: float *const H = scratch + b * 102912ll, *const C = H + 51456ll;
// CHECK-NEXT: __shared__ float a[1024];
// CHECK-NEXT: __shared__ float dz[1024];
// CHECK-NEXT: __shared__ float dh[256];
// CHECK-NEXT: __shared__ float dc[256];
// CHECK-NEXT: __shared__ float xs[8];
func.func @long_sequence(%x: tensor<2x200x8xf32>, %k: tensor<8x1024xf32>, %r: tensor<256x1024xf32>, %dy: tensor<2x256xf32>) -> tensor<2x200x8xf32> {
  %dx, %dk, %dr, %db = dl.lstm_grad %x, %k, %r, %dy : (tensor<2x200x8xf32>, tensor<8x1024xf32>, tensor<256x1024xf32>, tensor<2x256xf32>) -> (tensor<2x200x8xf32>, tensor<8x1024xf32>, tensor<256x1024xf32>, tensor<1024xf32>)
  return %dx : tensor<2x200x8xf32>
}

// -----

// Tests that a layer too wide for shared memory (2,048 units: one step's
// gates and their gradients are 64 KB) keeps one step's arrays in its row's
// scratch too, after the states, and uses no shared memory.
// CHECK-LABEL: // lstm_grad from
// CHECK: shared 0 bytes
// CHECK: float *const H = scratch + b * 843784ll, *const C = H + 411648ll;
// CHECK-NEXT: float *const a = H + 823296ll + 0ll;
// CHECK-NEXT: float *const dz = H + 823296ll + 8192ll;
// CHECK-NEXT: float *const dh = H + 823296ll + 16384ll;
// CHECK-NEXT: float *const dc = H + 823296ll + 18432ll;
// CHECK-NEXT: float *const xs = H + 823296ll + 20480ll;
// CHECK-NOT: __shared__
// CHECK: }
func.func @wide_grad(%x: tensor<2x200x8xf32>, %k: tensor<8x8192xf32>, %r: tensor<2048x8192xf32>, %dy: tensor<2x2048xf32>) -> tensor<2x200x8xf32> {
  %dx, %dk, %dr, %db = dl.lstm_grad %x, %k, %r, %dy : (tensor<2x200x8xf32>, tensor<8x8192xf32>, tensor<2048x8192xf32>, tensor<2x2048xf32>) -> (tensor<2x200x8xf32>, tensor<8x8192xf32>, tensor<2048x8192xf32>, tensor<8192xf32>)
  return %dx : tensor<2x200x8xf32>
}

// -----

// Tests that the forward pass of so wide a layer takes one row a block and
// keeps its arrays in the block's part of its scratch.
// CHECK-LABEL: // lstm from
// CHECK: grid (2, 1, 1), block (256, 1, 1), shared 0 bytes
// CHECK: float *__restrict__ scratch) {
// CHECK-NEXT: float *const xs = scratch + (long long)blockIdx.x * 12296ll + 0ll;
// CHECK-NEXT: float *const hs = scratch + (long long)blockIdx.x * 12296ll + 8ll;
// CHECK-NEXT: float *const cs = scratch + (long long)blockIdx.x * 12296ll + 2056ll;
// CHECK-NEXT: float *const z = scratch + (long long)blockIdx.x * 12296ll + 4104ll;
// CHECK-NOT: __shared__
// CHECK: }
func.func @wide_forward(%x: tensor<2x5x8xf32>, %k: tensor<8x8192xf32>, %r: tensor<2048x8192xf32>) -> tensor<2x2048xf32> {
  %h = dl.lstm %x, %k, %r : (tensor<2x5x8xf32>, tensor<8x8192xf32>, tensor<2048x8192xf32>) -> tensor<2x2048xf32>
  return %h : tensor<2x2048xf32>
}
