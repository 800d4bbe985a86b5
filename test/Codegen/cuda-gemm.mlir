// RUN: dlc-opt %s --split-input-file --dlc-fuse --dlc-select-kernels=targets=cuda --dlc-print-cuda -o /dev/null | FileCheck %s
// RUN: env DLC_GEMM_TILES=96x96 not dlc-opt %s --split-input-file --dlc-fuse --dlc-select-kernels=targets=cuda --dlc-print-cuda -o /dev/null 2>&1 | FileCheck %s --check-prefix=HOOK
// HOOK: error: DLC_GEMM_TILES='96x96' is not one of 128x128, 128x64, 64x64

// Tests that dense + bias + relu is one tiled matrix product (64x64 tiles,
// K through shared memory in steps of 16, two buffers: the next step's
// loads go into registers before this step's products and into the other
// buffer after them, one barrier a step) with bias and activation applied
// in the epilogue before the only store; the name is the group's plus a hash
// of the code.
// CHECK-LABEL: // dense+relu from
// CHECK: // launch: grid (2, 1, 1), block (256, 1, 1), shared 17408 bytes
// CHECK: void __launch_bounds__(256) k_dense_relu_{{[0-9a-f]+}}(const float *__restrict__ in0, const float *__restrict__ in1, const float *__restrict__ in2, float *__restrict__ out0)
// CHECK: const long long M = 100ll, N = 3ll, K = 8ll;
// CHECK: const long long kBegin = 0, kEnd = K;
// CHECK: const long long rowBlock = (long long)blockIdx.x / 1ll, columnBlock = (long long)blockIdx.x % 1ll;
// CHECK: __shared__ __align__(16) float As[2][16][64 + 4];
// CHECK: float nextA[4], nextB[4];
// CHECK: const long long m = rowBase + r, k = kBegin + kk;
// CHECK-NEXT: nextA[l] = m < rowEnd && k < kEnd ? in0[m * 8ll + k] : 0.0f;
// CHECK: nextB[l] = k < kEnd && n < N ? in1[k * 3ll + n] : 0.0f;
// CHECK: As[0][t % 16][t / 16] = nextA[l];
// CHECK: Bs[0][t / 64][t % 64] = nextB[l];
// CHECK: __syncthreads();
// CHECK: for (long long k0 = kBegin; k0 < kEnd; k0 += 16, buffer ^= 1) {
// CHECK-NEXT: const bool more = k0 + 16 < kEnd;
// CHECK: const long long m = rowBase + r, k = (k0 + 16) + kk;
// CHECK: *reinterpret_cast<const float4 *>(&As[buffer][kk][ty * 4 + 0]);
// CHECK: const float a[4] = {a0.x, a0.y, a0.z, a0.w}
// CHECK: acc[i][j] += a[i] * b[j];
// CHECK: As[buffer ^ 1][t % 16][t / 16] = nextA[l];
// CHECK: __syncthreads();
// CHECK-NEXT: }
// CHECK: v += in2[n];
// CHECK-NEXT: const float e1 = fmaxf(v, 0.0f);
// CHECK-NEXT: out0[pos * 3ll + n] = e1;
func.func @dense_relu(%x: tensor<100x8xf32>, %k: tensor<8x3xf32>, %b: tensor<3xf32>) -> tensor<100x3xf32> {
  %d = dl.dense %x, %k, %b : (tensor<100x8xf32>, tensor<8x3xf32>, tensor<3xf32>) -> tensor<100x3xf32>
  %r = dl.relu %d : (tensor<100x3xf32>) -> tensor<100x3xf32>
  return %r : tensor<100x3xf32>
}

// -----

// Tests that a product with enough rows and columns for 264 tiles of 128x128
// (two blocks for each SM of an H200) takes them: 8x8 outputs a thread,
// read as two float4s each of A's rows and B's columns per k-step.
// CHECK-LABEL: // dense from
// CHECK: // launch: grid (288, 1, 1), block (256, 1, 1), shared 33792 bytes
// CHECK: const long long rowBlock = (long long)blockIdx.x / 9ll, columnBlock = (long long)blockIdx.x % 9ll;
// CHECK: __shared__ __align__(16) float As[2][16][128 + 4];
// CHECK-NEXT: __shared__ __align__(16) float Bs[2][16][128 + 4];
// CHECK: float acc[8][8];
// CHECK: const long long rowBase = rowBlock * 128;
// CHECK: const long long colBase = columnBlock * 128;
// CHECK: float nextA[8], nextB[8];
// CHECK: const int kb = t / 128, c = t % 128;
// CHECK: const float4 a1 = *reinterpret_cast<const float4 *>(&As[buffer][kk][ty * 8 + 4]);
// CHECK: const float4 b1 = *reinterpret_cast<const float4 *>(&Bs[buffer][kk][tx * 8 + 4]);
// CHECK: const long long m = rowBase + ty * 8 + i, n = colBase + tx * 8 + j;
func.func @dense_large_tiles(%x: tensor<4096x16xf32>, %k: tensor<16x1152xf32>) -> tensor<4096x1152xf32> {
  %d = dl.dense %x, %k : (tensor<4096x16xf32>, tensor<16x1152xf32>) -> tensor<4096x1152xf32>
  return %d : tensor<4096x1152xf32>
}

// -----

// Tests that 64 columns keep 64-wide tiles (128 would pad them to twice as
// many), while the rows take 128: 8x4 outputs a thread.
// CHECK-LABEL: // dense from
// CHECK: // launch: grid (264, 1, 1), block (256, 1, 1), shared 25600 bytes
// CHECK: float acc[8][4];
// CHECK: const float a[8] = {a0.x, a0.y, a0.z, a0.w, a1.x, a1.y, a1.z, a1.w}
// CHECK: const float b[4] = {b0.x, b0.y, b0.z, b0.w}
// CHECK: const long long m = rowBase + ty * 8 + i, n = colBase + tx * 4 + j;
func.func @dense_tall_tiles(%x: tensor<33792x16xf32>, %k: tensor<16x64xf32>) -> tensor<33792x64xf32> {
  %d = dl.dense %x, %k : (tensor<33792x16xf32>, tensor<16x64xf32>) -> tensor<33792x64xf32>
  return %d : tensor<33792x64xf32>
}

// -----

// Tests that the tensor-core loop takes larger tiles too: each of the 8
// warps owns a 64x32 part (128x128: 4x2 fragments) or a 32x32 one (128x64:
// 2x2), every A fragment it loads serving all its columns; it stores one
// fragment at a time to its own 16x16 of Cw and its lanes run the epilogue
// there (no 128x128 staging in shared memory; Cw reuses the operands'
// storage). TF32 operands are rounded on their way through registers.
// CHECK-LABEL: // dense from
// CHECK: // launch: grid (288, 1, 1), block (256, 1, 1), shared 37376 bytes
// CHECK: __shared__ __align__(32) unsigned char tensorCoreTiles[37376];
// CHECK-NEXT: float (&As)[2][128][16 + 4] = *reinterpret_cast<float (*)[2][128][16 + 4]>(tensorCoreTiles);
// CHECK-NEXT: float (&Bs)[2][16][128 + 4] = *reinterpret_cast<float (*)[2][16][128 + 4]>(tensorCoreTiles + 20480);
// CHECK-NEXT: float (&Cw)[8][16][16 + 4] = *reinterpret_cast<float (*)[8][16][16 + 4]>(tensorCoreTiles);
// CHECK: nvcuda::wmma::fragment<nvcuda::wmma::accumulator, 16, 16, 8, float> cf[4][2];
// CHECK: const int partRow = warp / 4 * 64, partColumn = warp % 4 * 32;
// CHECK: float ra[8];
// CHECK-NEXT: float rb[8];
// CHECK-NOT: __pipeline_memcpy_async
// CHECK: ra[i] = nvcuda::wmma::__float_to_tf32(m < rowEnd && k < kEnd ? in0[m * 16ll + k] : 0.0f);
// CHECK: for (long long k0 = kBegin; k0 < kEnd; k0 += 16, buf ^= 1) {
// CHECK: ra[i] = nvcuda::wmma::__float_to_tf32(
// CHECK: nvcuda::wmma::load_matrix_sync(a[i], &As[buf][partRow + 16 * i][kk], 20);
// CHECK: nvcuda::wmma::mma_sync(cf[i][j], a[i], b[j], cf[i][j]);
// CHECK: if (more) {
// CHECK-NEXT: for (int i = 0; i < 8; ++i)
// CHECK-NEXT: As[buf ^ 1][(threadIdx.x + 256 * i) / 16][(threadIdx.x + 256 * i) % 16] = ra[i];
// CHECK: __syncthreads();
// CHECK-NEXT: }
// CHECK: nvcuda::wmma::store_matrix_sync(&Cw[warp][0][0], cf[i][j], 20, nvcuda::wmma::mem_row_major);
// CHECK-NEXT: __syncwarp();
// CHECK: const long long m = rowBase + partRow + 16 * i + e / 16, n = colBase + partColumn + 16 * j + e % 16;
// CHECK: float v = Cw[warp][e / 16][e % 16];
func.func @dense_tf32_large_tiles(%x: tensor<4096x16xf32>, %k: tensor<16x1152xf32>) -> tensor<4096x1152xf32> {
  %d = dl.dense %x, %k {dl.tf32} : (tensor<4096x16xf32>, tensor<16x1152xf32>) -> tensor<4096x1152xf32>
  return %d : tensor<4096x1152xf32>
}

// -----

// Tests that 16-bit operands read as stored reach shared memory by
// cp.async: 16-byte chunks, zero-filled outside the product, the next
// k-step's tile copied into the other buffer while this one multiplies.
// CHECK-LABEL: // dense from
// CHECK: // launch: grid (264, 1, 1), block (256, 1, 1), shared 16896 bytes
// CHECK: __nv_bfloat16 (&As)[2][128][16 + 8] = *reinterpret_cast<__nv_bfloat16 (*)[2][128][16 + 8]>(tensorCoreTiles);
// CHECK: cf[2][2];
// CHECK: const int partRow = warp / 2 * 32, partColumn = warp % 2 * 32;
// CHECK-NOT: ra[
// CHECK: __pipeline_memcpy_async(&As[0][r][kk], in0_raw + (inside ? m * 16ll + k : 0), 16, inside ? 0 : 16);
// CHECK: __pipeline_memcpy_async(&Bs[0][kb][cc], in1_raw + (inside ? k * 64ll + n : 0), 16, inside ? 0 : 16);
// CHECK: __pipeline_commit();
// CHECK-NEXT: __pipeline_wait_prior(0);
// CHECK: if (more) {
// CHECK: __pipeline_memcpy_async(&As[buf ^ 1][r][kk]
// CHECK: __pipeline_commit();
// CHECK: load_matrix_sync(a[i], &As[buf][partRow + 16 * i][kk], 24);
// CHECK: if (more) {
// CHECK-NEXT: __pipeline_wait_prior(0);
// CHECK-NEXT: }
// CHECK-NEXT: __syncthreads();
func.func @dense_bf16_tall_tiles(%x: tensor<33792x16xbf16>, %k: tensor<16x64xbf16>) -> tensor<33792x64xbf16> {
  %d = dl.dense %x, %k : (tensor<33792x16xbf16>, tensor<16x64xbf16>) -> tensor<33792x64xbf16>
  return %d : tensor<33792x64xbf16>
}

// -----

// Tests that a convolution is an implicit GEMM (no im2col buffer): the A
// operand is read through the window map with TF same padding (pad 1 before
// for a 3x3 window at stride 1) and zero outside the image; the index math
// is in int (the tensors are far below 2^31 elements).
// CHECK-LABEL: // conv2d from
// CHECK: template <typename X>
// CHECK-NEXT: __device__ __forceinline__ float dlc_conv_a(X x, long long m, long long k) {
// CHECK-NEXT: const int ox = (int)m % 5, oy = (int)m / 5 % 5, b = (int)m / 25;
// CHECK-NEXT: const int ci = (int)k % 3, kx = (int)k / 3 % 3, ky = (int)k / 9;
// CHECK-NEXT: return ((oy * 1 - 1 + ky * 1) >= 0 && (oy * 1 - 1 + ky * 1) < 5
// CHECK: const long long M = 50ll, N = 4ll, K = 27ll;
// CHECK: nextA[l] = m < rowEnd && k < kEnd ? dlc_conv_a(in0, m, k) : 0.0f;
func.func @conv(%x: tensor<2x5x5x3xf32>, %k: tensor<3x3x3x4xf32>) -> tensor<2x5x5x4xf32> {
  %y = dl.conv2d %x, %k {dilation = array<i64: 1, 1>, padding = #dl<padding same>, strides = array<i64: 1, 1>} : (tensor<2x5x5x3xf32>, tensor<3x3x3x4xf32>) -> tensor<2x5x5x4xf32>
  return %y : tensor<2x5x5x4xf32>
}

// -----

// Tests that conv + relu + 2x2 max pool is one kernel whose rows are whole
// pooling windows (16 windows of 4 taps per 64-row tile), reduced in shared
// memory; with the relu output a result too, an extra block stores the edge
// the pool does not cover (row and column 8 of a 9x9 output: 17 positions).
// CHECK-LABEL: // conv2d+relu+max_pool2d from
// CHECK: // launch: grid (2, 1, 1)
// CHECK: __device__ __forceinline__ bool dlc_row(long long m, long long &b, long long &oy, long long &ox) {
// CHECK: if (m < 64ll) {
// CHECK: __shared__ float pooled[64][64 + 1];
// CHECK: const bool windowBlock = rowBlock < 1ll;
// CHECK: out0[pos * 5ll + n] = e1;
// CHECK: r = fmaxf(r, v);
// CHECK: out1[window * N + n] = r;
func.func @conv_relu_pool(%x: tensor<1x11x11x3xf32>, %k: tensor<3x3x3x5xf32>) -> (tensor<1x9x9x5xf32>, tensor<1x4x4x5xf32>) {
  %c = dl.conv2d %x, %k {dilation = array<i64: 1, 1>, padding = #dl<padding valid>, strides = array<i64: 1, 1>} : (tensor<1x11x11x3xf32>, tensor<3x3x3x5xf32>) -> tensor<1x9x9x5xf32>
  %r = dl.relu %c : (tensor<1x9x9x5xf32>) -> tensor<1x9x9x5xf32>
  %p = dl.max_pool2d %r {padding = #dl<padding valid>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<1x9x9x5xf32>) -> tensor<1x4x4x5xf32>
  return %r, %p : tensor<1x9x9x5xf32>, tensor<1x4x4x5xf32>
}

// -----

// Tests that a kernel gradient with one output tile and a long K (the batch
// times every output position) splits K over grid.z and adds atomically.
// CHECK-LABEL: // conv2d_grad_kernel from
// CHECK: // launch: grid (1, 1, 42)
// CHECK: const long long kBegin = (long long)blockIdx.z * 144ll, kEnd = kBegin + 144ll < K ? kBegin + 144ll : K;
// CHECK: atomicAdd(&out0[pos * 8ll + n], v);
func.func @kernel_grad(%x: tensor<8x28x28x1xf32>, %dy: tensor<8x26x26x8xf32>) -> tensor<3x3x1x8xf32> {
  %dk = dl.conv2d_grad_kernel %x, %dy {dilation = array<i64: 1, 1>, padding = #dl<padding valid>, strides = array<i64: 1, 1>} : (tensor<8x28x28x1xf32>, tensor<8x26x26x8xf32>) -> tensor<3x3x1x8xf32>
  return %dk : tensor<3x3x1x8xf32>
}

// -----

// Tests that dense + softmax runs a block per 64x64 tile (16 column tiles
// of 1000 columns): each stores its logits and its rows' max and sum of
// exponentials (shuffles among the 16 lanes of a row) in scratch; the last
// tile of the row strip to finish (a ticket per strip) combines them in
// column order and normalises the strip.
// CHECK-LABEL: // dense+softmax from
// CHECK: // launch: grid (16, 1, 1)
// CHECK: tileMax = fmaxf(tileMax, __shfl_xor_sync(0xffffffffu, tileMax, o));
// CHECK: float *const stat = scratch + ((rowBlock * 16ll + columnBlock) * 64 + ty * 4 + i) * 2;
// CHECK: lastBlock = atomicAdd((unsigned *)(scratch + 2048ll) + rowBlock, 1u) == 15u;
// CHECK: sum += stat[c * 128 + 1] * expf(stat[c * 128] - top);
// CHECK: out0[m * N + n] = expf(out0[m * N + n] - rowMax[r]) / rowSum[r];
func.func @dense_softmax(%x: tensor<4x8xf32>, %k: tensor<8x1000xf32>) -> tensor<4x1000xf32> {
  %d = dl.dense %x, %k : (tensor<4x8xf32>, tensor<8x1000xf32>) -> tensor<4x1000xf32>
  %s = dl.softmax %d {axis = -1 : i64} : (tensor<4x1000xf32>) -> tensor<4x1000xf32>
  return %s : tensor<4x1000xf32>
}

// -----

// Tests that dense_grad_input + relu_grad + bias_grad is one GEMM whose
// epilogue applies relu_grad (reading the relu output at the same element)
// and sums the bias gradient per column in shared memory, one atomic per
// column and block into the zeroed result.
// CHECK-LABEL: // dense_grad_input+relu_grad+bias_grad from
// CHECK: __shared__ float columnSum[64];
// CHECK: const float e1 = in2[pos * 40ll + n] > 0.0f ? v : 0.0f;
// CHECK-NEXT: out0[pos * 40ll + n] = e1;
// CHECK-NEXT: atomicAdd(&columnSum[n - colBase], e1);
// CHECK: atomicAdd(&out1[colBase + threadIdx.x], columnSum[threadIdx.x]);
func.func @dense_grad_chain(%dy: tensor<50x30xf32>, %k: tensor<40x30xf32>, %y: tensor<50x40xf32>) -> (tensor<50x40xf32>, tensor<40xf32>) {
  %dx = dl.dense_grad_input %dy, %k : (tensor<50x30xf32>, tensor<40x30xf32>) -> tensor<50x40xf32>
  %g = dl.relu_grad %y, %dx : (tensor<50x40xf32>, tensor<50x40xf32>) -> tensor<50x40xf32>
  %db = dl.bias_grad %g : (tensor<50x40xf32>) -> tensor<40xf32>
  return %g, %db : tensor<50x40xf32>, tensor<40xf32>
}

// -----

// Tests that row and column tiles share grid.x, so that a large batch's row
// tiles (100,352 tiles of 128 rows in VGG16's first convolution at batch
// 256) do not meet grid.y's limit of 65,535. The 65 columns take one tile
// of 128, which pads them no more than two of 64 would.
// CHECK-LABEL: // conv2d from
// CHECK: // launch: grid (100352, 1, 1)
// CHECK: const long long rowBlock = (long long)blockIdx.x / 1ll, columnBlock = (long long)blockIdx.x % 1ll;
// CHECK: const long long rowBase = rowBlock * 128;
// CHECK: const long long colBase = columnBlock * 128;
func.func @conv_large_batch(%x: tensor<256x224x224x3xf32>, %k: tensor<3x3x3x65xf32>) -> tensor<256x224x224x65xf32> {
  %y = dl.conv2d %x, %k {dilation = array<i64: 1, 1>, padding = #dl<padding same>, strides = array<i64: 1, 1>} : (tensor<256x224x224x3xf32>, tensor<3x3x3x65xf32>) -> tensor<256x224x224x65xf32>
  return %y : tensor<256x224x224x65xf32>
}

// -----

// Tests that training-mode dropout runs in a GEMM epilogue: its mask is drawn
// by the element's flat index in the product, and the kernel takes the step.
// CHECK-LABEL: // dense+relu+dropout from
// CHECK: __device__ __forceinline__ double dlc_uniform01(
// CHECK: k_dense_relu_dropout_{{[0-9a-f]+}}(const float *__restrict__ in0, const float *__restrict__ in1, const float *__restrict__ in2, float *__restrict__ out0, float *__restrict__ out1, const unsigned long long *__restrict__ step)
// CHECK: const float e2 = (dlc_uniform01(3ull, *step, (unsigned long long)(pos * 3ll + n)) < 0.5 ? 0.0f : e1 * 2.0f);
func.func @dense_relu_dropout(%x: tensor<100x8xf32>, %k: tensor<8x3xf32>, %b: tensor<3xf32>) -> (tensor<100x3xf32>, tensor<100x3xf32>) {
  %d = dl.dense %x, %k, %b : (tensor<100x8xf32>, tensor<8x3xf32>, tensor<3xf32>) -> tensor<100x3xf32>
  %r = dl.relu %d : (tensor<100x3xf32>) -> tensor<100x3xf32>
  %o = dl.dropout %r {rate = 0.5 : f64, seed = 3 : i64, training} : (tensor<100x3xf32>) -> tensor<100x3xf32>
  return %r, %o : tensor<100x3xf32>, tensor<100x3xf32>
}

// -----

// Tests that an approximate gelu gradient in a GEMM epilogue brings its
// device helper along (every family gets the helpers its ops call).
// CHECK-LABEL: // dense_grad_input+gelu_grad from
// CHECK: __device__ __forceinline__ float dlc_gelu_tanh_grad(float x, float dy) {
// CHECK: const float e1 = dlc_gelu_tanh_grad(in2[pos * 8ll + n], v);
func.func @dense_grad_gelu(%dy: tensor<100x3xf32>, %k: tensor<8x3xf32>, %x: tensor<100x8xf32>) -> tensor<100x8xf32> {
  %g = dl.dense_grad_input %dy, %k : (tensor<100x3xf32>, tensor<8x3xf32>) -> tensor<100x8xf32>
  %d = dl.gelu_grad %x, %g {approximate} : (tensor<100x8xf32>, tensor<100x8xf32>) -> tensor<100x8xf32>
  return %d : tensor<100x8xf32>
}
