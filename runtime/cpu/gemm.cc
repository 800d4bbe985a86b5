//===- gemm.cc - sgemm through oneDNN --------------------------------------===//
//
// oneDNN's sgemm rather than OpenBLAS: on the dense and LSTM shapes of the
// example models (M = 128 rows; 576x64, 64x10, 128x512, 128x1000 and their
// transposed gradients) it was as fast or faster on every shape, e.g.
// 128x576·576x64 in 101 vs 115 us on one thread and 71 vs 132 us on two,
// 128x128·128x1000 in 357 vs 415 and 241 vs 372 us. It also shares the GNU
// OpenMP thread pool with our loops; Debian's OpenBLAS is the pthread build,
// whose own threads compete with OpenMP's spinning workers.
//
//===----------------------------------------------------------------------===//
#include "runtime/cpu/gemm.h"

#include <oneapi/dnnl/dnnl.h>

namespace dlc::rt::cpu {

void sgemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k, float alpha,
           const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
           float *c, int64_t ldc) {
  if (m == 0 || n == 0)
    return;
  if (k == 0) {
    // An empty sum: oneDNN rejects the zero leading dimensions this implies.
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j)
        c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
    return;
  }
  dnnl_sgemm(transA ? 'T' : 'N', transB ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb,
             beta, c, ldc);
}

} // namespace dlc::rt::cpu
