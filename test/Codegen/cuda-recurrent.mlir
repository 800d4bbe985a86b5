// RUN: dlc-opt %s --split-input-file --dlc-fuse --dlc-select-kernels=targets=cuda --dlc-print-cuda -o /dev/null | FileCheck %s

// Tests that the LSTM gradient keeps each row's recomputed states and every
// step's gate gradients in its scratch (global memory): 200 steps of 256
// units, 1.2 MB a row, run where shared memory held only short sequences;
// one step's arrays stay in shared memory. The weight gradients are each
// row's sums over its steps, added once per row (not once per step).
// CHECK-LABEL: // lstm_grad from
// CHECK: shared 10272 bytes
// CHECK: float *__restrict__ scratch) {
// CHECK: float *const H = scratch + b * 307712ll, *const C = H + 51456ll, *const DZ = C + 51456ll;
// CHECK-NEXT: __shared__ float a[1024];
// CHECK-NEXT: __shared__ float dz[1024];
// CHECK-NEXT: __shared__ float dh[256];
// CHECK-NEXT: __shared__ float dc[256];
// CHECK-NEXT: __shared__ float xs[8];
// CHECK-NOT: DZ[t
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
// CHECK: float *const H = scratch + b * 2482184ll, *const C = H + 411648ll, *const DZ = C + 411648ll;
// CHECK-NEXT: float *const a = H + 2461696ll + 0ll;
// CHECK-NEXT: float *const dz = H + 2461696ll + 8192ll;
// CHECK-NEXT: float *const dh = H + 2461696ll + 16384ll;
// CHECK-NEXT: float *const dc = H + 2461696ll + 18432ll;
// CHECK-NEXT: float *const xs = H + 2461696ll + 20480ll;
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

// -----

// Tests that the weight gradients are each row's sums over its steps of the
// kept gate gradients (DZ) times the step's input (kernel), state before the
// step (recurrent kernel) or one (bias), added once per row with atomics.
func.func @weight_gradients(%x: tensor<3x5x2xf32>, %k: tensor<2x16xf32>, %r: tensor<4x16xf32>, %b: tensor<16xf32>, %dy: tensor<3x4xf32>) -> (tensor<2x16xf32>, tensor<4x16xf32>, tensor<16xf32>) {
  %dx, %dk, %dr, %db = dl.lstm_grad %x, %k, %r, %b, %dy : (tensor<3x5x2xf32>, tensor<2x16xf32>, tensor<4x16xf32>, tensor<16xf32>, tensor<3x4xf32>) -> (tensor<3x5x2xf32>, tensor<2x16xf32>, tensor<4x16xf32>, tensor<16xf32>)
  return %dk, %dr, %db : tensor<2x16xf32>, tensor<4x16xf32>, tensor<16xf32>
}
// CHECK-LABEL: // lstm_grad from
// CHECK: *const DZ = C + 24ll;
// CHECK: for (long long t = 4ll; t >= 0; --t) {
// CHECK: DZ[t * 16ll + g] = dz[g];
// CHECK: for (long long g = threadIdx.x; g < 16ll; g += 256) {
// CHECK-NEXT: for (long long i = 0; i < 1; ++i) {
// CHECK-NEXT: float sum = 0.0f;
// CHECK-NEXT: for (long long t = 0; t < 5ll; ++t)
// CHECK-NEXT: sum += 1.0f * DZ[t * 16ll + g];
// CHECK-NEXT: atomicAdd(&[[DB:out[0-9]]][i * 16ll + g], sum);
// CHECK: for (long long i = 0; i < 2ll; ++i) {
// CHECK: sum += in0[(b * 5ll + t) * 2ll + i] * DZ[t * 16ll + g];
// CHECK-NEXT: atomicAdd(&[[DK:out[0-9]]][i * 16ll + g], sum);
// CHECK: for (long long i = 0; i < 4ll; ++i) {
// CHECK: sum += H[t * 4ll + i] * DZ[t * 16ll + g];
// CHECK-NEXT: atomicAdd(&[[DR:out[0-9]]][i * 16ll + g], sum);
