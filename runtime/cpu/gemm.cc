//===- gemm.cc - sgemm through oneDNN --------------------------------------===//
#include "runtime/cpu/gemm.h"

#include <oneapi/dnnl/dnnl.h>

namespace dlc::rt::cpu {

void sgemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k, float alpha,
           const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
           float *c, int64_t ldc) {
  if (m == 0 || n == 0)
    return;
  dnnl_sgemm(transA ? 'T' : 'N', transB ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb,
             beta, c, ldc);
}

} // namespace dlc::rt::cpu
