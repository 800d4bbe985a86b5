// RUN: dlc-opt %s --split-input-file --dlc-fuse --dlc-print-cuda -o /dev/null | FileCheck %s

// Tests that the LSTM gradient keeps each row's recomputed states in its
// scratch (global memory): 200 steps of 256 units, 400 KB a row, run where
// shared memory held only short sequences.
// CHECK-LABEL: // lstm_grad from
// CHECK: float *__restrict__ scratch) {
// CHECK: __shared__ float a[1024ll], dz[1024ll], dh[256ll], dc[256ll], xs[8ll];
// CHECK: float *const H = scratch + b * 102912ll, *const C = H + 51456ll;
func.func @long_sequence(%x: tensor<2x200x8xf32>, %k: tensor<8x1024xf32>, %r: tensor<256x1024xf32>, %dy: tensor<2x256xf32>) -> tensor<2x200x8xf32> {
  %dx, %dk, %dr, %db = dl.lstm_grad %x, %k, %r, %dy : (tensor<2x200x8xf32>, tensor<8x1024xf32>, tensor<256x1024xf32>, tensor<2x256xf32>) -> (tensor<2x200x8xf32>, tensor<8x1024xf32>, tensor<256x1024xf32>, tensor<1024xf32>)
  return %dx : tensor<2x200x8xf32>
}
