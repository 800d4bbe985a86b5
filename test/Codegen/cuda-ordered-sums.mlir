// RUN: dlc-opt %s --split-input-file --dlc-fuse '--dlc-select-kernels=targets=cuda deterministic=true' --dlc-print-cuda -o /dev/null | FileCheck %s --implicit-check-not='atomicAdd(&'

// --deterministic: every family that sums with float atomics by default sums
// in an order fixed at compile time instead (docs/gpu.md, "What varies").

// Tests that under --deterministic a chain ending in bias_grad sums each
// column over the rows of its block in order (a narrow bias spreads a column
// over lanes, added in lane order), stores the block's sums as its row of the
// table in scratch, and the last block adds the rows in order: no float
// atomics, and the gradient is not zeroed by the runtime.
// CHECK-LABEL: // relu_grad+bias_grad from
// CHECK: float *__restrict__ out1, float *__restrict__ scratch) {
// CHECK: for (long long r = rowBegin + threadIdx.x / 3ll; r < rowEnd; r += 85ll) {
// CHECK: out0[i] = v0;
// CHECK-NEXT: columnSum += v0;
// CHECK: for (int lane = 0; lane < 85; ++lane)
// CHECK-NEXT: columnSum += laneSums[lane * 3 + threadIdx.x];
// CHECK-NEXT: scratch[blockIdx.x * 3ll + threadIdx.x] = columnSum;
// CHECK: lastBlock = atomicAdd((unsigned *)(scratch + 3ll), 1u) == 0u;
// CHECK: for (long long p = 0; p < 1ll; ++p)
// CHECK-NEXT: sum += table[p * 3ll + 0ll + c];
// CHECK-NEXT: out1[c] = sum;
func.func @bias(%y: tensor<4x3xf32>, %dy: tensor<4x3xf32>) -> (tensor<4x3xf32>, tensor<3xf32>) {
  %g = dl.relu_grad %y, %dy : (tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
  %db = dl.bias_grad %g : (tensor<4x3xf32>) -> tensor<3xf32>
  return %g, %db : tensor<4x3xf32>, tensor<3xf32>
}

// -----

// Tests that a wide bias (9,000 channels) gives each thread whole columns.
// CHECK-LABEL: // relu_grad+bias_grad from
// CHECK-NOT: laneSums
// CHECK: scratch[blockIdx.x * 9000ll + c] = columnSum;
func.func @wide_bias(%y: tensor<2x9000xf32>, %dy: tensor<2x9000xf32>) -> (tensor<2x9000xf32>, tensor<9000xf32>) {
  %g = dl.relu_grad %y, %dy : (tensor<2x9000xf32>, tensor<2x9000xf32>) -> tensor<2x9000xf32>
  %db = dl.bias_grad %g : (tensor<2x9000xf32>) -> tensor<9000xf32>
  return %g, %db : tensor<2x9000xf32>, tensor<9000xf32>
}

// -----

// Tests that a GEMM's bias gradient sums each thread's rows in registers,
// then the 16 row threads of a column in order, one table row per row tile.
// CHECK-LABEL: // dense_grad_input+relu_grad+bias_grad from
// CHECK: columnParts[j] += e1;
// CHECK: sum += rowThreadSums[r][threadIdx.x];
// CHECK-NEXT: scratch[rowBlock * N + colBase + threadIdx.x] = sum;
// CHECK: lastBlock = atomicAdd((unsigned *)(scratch + 40ll), 1u) == 0u;
func.func @dense_grad_chain(%dy: tensor<50x30xf32>, %k: tensor<40x30xf32>, %y: tensor<50x40xf32>) -> (tensor<50x40xf32>, tensor<40xf32>) {
  %dx = dl.dense_grad_input %dy, %k : (tensor<50x30xf32>, tensor<40x30xf32>) -> tensor<50x40xf32>
  %g = dl.relu_grad %y, %dx : (tensor<50x40xf32>, tensor<50x40xf32>) -> tensor<50x40xf32>
  %db = dl.bias_grad %g : (tensor<50x40xf32>) -> tensor<40xf32>
  return %g, %db : tensor<50x40xf32>, tensor<40xf32>
}

// -----

// Tests that a kernel gradient splits K over blocks serially: each split
// stores its part of the tile, and the tile's last split adds the parts in
// split order (float atomics would add them in the order blocks finish).
// CHECK-LABEL: // conv2d_grad_kernel from
// CHECK: // launch: grid (1, 1, 42)
// CHECK: const long long kBegin = (long long)blockIdx.z * 144ll
// CHECK: part[(i * 4 + j) * 256] = acc[i][j];
// CHECK: lastBlock = atomicAdd((unsigned *)(scratch + 172032ll) + blockIdx.x, 1u) == 41u;
// CHECK: for (long long z = 0; z < 42ll; ++z)
// CHECK-NEXT: sum += parts[z * 4096 + (i * 4 + j) * 256];
func.func @kernel_grad(%x: tensor<8x28x28x1xf32>, %dy: tensor<8x26x26x8xf32>) -> tensor<3x3x1x8xf32> {
  %dk = dl.conv2d_grad_kernel %x, %dy {dilation = array<i64: 1, 1>, padding = #dl<padding valid>, strides = array<i64: 1, 1>} : (tensor<8x28x28x1xf32>, tensor<8x26x26x8xf32>) -> tensor<3x3x1x8xf32>
  return %dk : tensor<3x3x1x8xf32>
}

// -----

// Tests that the loss gradient's bias sums go through a row per warp, then
// a row per block, in order.
// CHECK-LABEL: // loss_grad+bias_grad from
// CHECK: warpSums[j] += g;
// CHECK: for (int w = 0; w < 8; ++w)
// CHECK-NEXT: sum += scratch[(blockIdx.x * 8ll + w) * 10ll + j];
// CHECK-NEXT: scratch[80ll + blockIdx.x * 10ll + j] = sum;
func.func @grad(%z: tensor<4x10xf32>, %y: tensor<4xi32>) -> (tensor<4x10xf32>, tensor<10xf32>) {
  %g = dl.loss_grad %z, %y {config = #dl.config<"sparse_categorical_crossentropy", {from_logits = true}>} : (tensor<4x10xf32>, tensor<4xi32>) -> tensor<4x10xf32>
  %db = dl.bias_grad %g : (tensor<4x10xf32>) -> tensor<10xf32>
  return %g, %db : tensor<4x10xf32>, tensor<10xf32>
}

// -----

// Tests that the embedding gradient gives each id's row to its first
// position, which adds the dy rows of its id in position order.
// CHECK-LABEL: // embedding_grad from
// CHECK: if (__syncthreads_or(seen))
// CHECK: for (long long q = p; q < 6ll; ++q)
// CHECK-NEXT: if ((long long)in0[q] == id)
// CHECK-NEXT: sum += in1[q * 4ll + col];
// CHECK-NEXT: out0[id * 4ll + col] = sum;
func.func @scatter(%ids: tensor<2x3xi64>, %dy: tensor<2x3x4xf32>) -> tensor<7x4xf32> {
  %g = dl.embedding_grad %ids, %dy : (tensor<2x3xi64>, tensor<2x3x4xf32>) -> tensor<7x4xf32>
  return %g : tensor<7x4xf32>
}

// -----

// Tests that the LSTM gradient needs no table: its weight gradients and dx
// are later launches that store each output once (cuda-recurrent.mlir).
// CHECK-LABEL: // lstm_grad from
// CHECK-NOT: lastBlock
// CHECK: _weights(
// CHECK-NOT: lastBlock
// CHECK: _dx(
// CHECK-NOT: lastBlock
func.func @lstm(%x: tensor<2x5x8xf32>, %k: tensor<8x16xf32>, %r: tensor<4x16xf32>, %dy: tensor<2x4xf32>) -> (tensor<2x5x8xf32>, tensor<8x16xf32>, tensor<4x16xf32>, tensor<16xf32>) {
  %dx, %dk, %dr, %db = dl.lstm_grad %x, %k, %r, %dy : (tensor<2x5x8xf32>, tensor<8x16xf32>, tensor<4x16xf32>, tensor<2x4xf32>) -> (tensor<2x5x8xf32>, tensor<8x16xf32>, tensor<4x16xf32>, tensor<16xf32>)
  return %dx, %dk, %dr, %db : tensor<2x5x8xf32>, tensor<8x16xf32>, tensor<4x16xf32>, tensor<16xf32>
}
