// RUN: dlc-opt %s --split-input-file --dlc-fuse --dlc-select-kernels=targets=cuda --dlc-print-cuda -o /dev/null | FileCheck %s

// Tests that the LSTM gradient keeps each row's recomputed states and every
// step's gates (then their gradients) in its scratch (global memory): 200
// steps of 256 units, 1.2 MB a row, run where shared memory held only short
// sequences; one step's arrays stay in shared memory. Its dx is a later
// launch: a product over all rows and steps.
// CHECK-LABEL: // lstm_grad from
// CHECK: grid (2, 1, 1), block (256, 1, 1), shared 6176 bytes
// CHECK: float *__restrict__ scratch) {
// CHECK: float *const H = scratch + b * 307712ll, *const C = H + 51456ll, *const Z = H + 102912ll;
// CHECK-NEXT: __shared__ float dz[1024];
// CHECK-NEXT: __shared__ float dh[256];
// CHECK-NEXT: __shared__ float dc[256];
// CHECK-NEXT: __shared__ float xs[8];
// CHECK: // then: grid (1, 13, 1), block (64, 1, 1): 400x8 outputs, sums over 1024
// CHECK-NEXT: _dx(
func.func @long_sequence(%x: tensor<2x200x8xf32>, %k: tensor<8x1024xf32>, %r: tensor<256x1024xf32>, %dy: tensor<2x256xf32>) -> tensor<2x200x8xf32> {
  %dx, %dk, %dr, %db = dl.lstm_grad %x, %k, %r, %dy : (tensor<2x200x8xf32>, tensor<8x1024xf32>, tensor<256x1024xf32>, tensor<2x256xf32>) -> (tensor<2x200x8xf32>, tensor<8x1024xf32>, tensor<256x1024xf32>, tensor<1024xf32>)
  return %dx : tensor<2x200x8xf32>
}

// -----

// Tests that a layer too wide for shared memory (2,048 units: one step's
// gate gradients are 32 KB, and dh, dc and x with them exceed the limit)
// keeps one step's arrays in its row's scratch too, after the states and
// gates, and uses no shared memory.
// CHECK-LABEL: // lstm_grad from
// CHECK: shared 0 bytes
// CHECK: float *const H = scratch + b * 2473992ll, *const C = H + 411648ll, *const Z = H + 823296ll;
// CHECK-NEXT: float *const dz = H + 2461696ll + 0ll;
// CHECK-NEXT: float *const dh = H + 2461696ll + 8192ll;
// CHECK-NEXT: float *const dc = H + 2461696ll + 10240ll;
// CHECK-NEXT: float *const xs = H + 2461696ll + 12288ll;
// CHECK-NOT: __shared__
// CHECK: // then:
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

// -----

// Tests that the forward pass runs once, keeping each step's gates in Z;
// that going back each thread turns its unit's four gates into their
// gradients in place; and that the weight gradients are a later launch, a
// product over all 15 rows and steps (k) with one output row per kernel row
// (the step's input), recurrent-kernel row (the state before the step) and
// the bias (one), each output stored once: no atomics.
func.func @weight_gradients(%x: tensor<3x5x2xf32>, %k: tensor<2x16xf32>, %r: tensor<4x16xf32>, %b: tensor<16xf32>, %dy: tensor<3x4xf32>) -> (tensor<2x16xf32>, tensor<4x16xf32>, tensor<16xf32>) {
  %dx, %dk, %dr, %db = dl.lstm_grad %x, %k, %r, %b, %dy : (tensor<3x5x2xf32>, tensor<2x16xf32>, tensor<4x16xf32>, tensor<16xf32>, tensor<3x4xf32>) -> (tensor<3x5x2xf32>, tensor<2x16xf32>, tensor<4x16xf32>, tensor<16xf32>)
  return %dk, %dr, %db : tensor<2x16xf32>, tensor<4x16xf32>, tensor<16xf32>
}
// CHECK-LABEL: // lstm_grad from
// CHECK: *const Z = H + 48ll;
// CHECK: for (long long t = 0; t < 5ll; ++t) {
// CHECK: (Z + t * 16ll)[r * 16ll + g] = candidate ?
// CHECK-NOT: candidate ?
// CHECK: for (long long t = 4ll; t >= 0; --t) {
// CHECK-NEXT: float *const a = Z + t * 16ll;
// CHECK: dz[u] = a[u] = dcell * cand * in * (1.0f - in);
// CHECK: // then: grid (1, 1, 1), block (64, 1, 1): 7x16 outputs, sums over 15
// CHECK-NEXT: [[K:k_lstm_grad_[0-9a-f]+]]_weights(
// CHECK: As[kk][mm] = m < 7ll && k < 15ll ? (float)(m < 2ll ? in0[k * 2ll + m] : m < 6ll ? scratch[(k / 5ll) * 128ll + (k % 5ll) * 4ll + m - 2ll] : 1.0f) : 0.0f;
// CHECK: Bs[kk][cc] = c < 16ll && k < 15ll ? (float)(scratch[(k / 5ll) * 128ll + 48ll + (k % 5ll) * 16ll + c]) : 0.0f;
// CHECK: if (m < 2ll) [[DK:out[0-9]]][m * 16ll + c] = v; else if (m < 6ll) [[DR:out[0-9]]][(m - 2ll) * 16ll + c] = v; else [[DB:out[0-9]]][c] = v;
// CHECK-NOT: _dx(
// CHECK-NOT: atomicAdd
