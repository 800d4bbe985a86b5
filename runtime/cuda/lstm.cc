//===- lstm.cc - The library routine "lstm": its contract -----------------===//
#include "runtime/cuda/lstm.h"

#include "runtime/cuda/library_call.h"
#include "runtime/float16.h"

#include <cmath>
#include <vector>

namespace dlc::rt::cuda {
namespace {

constexpr int64_t kIntLimit = (int64_t(1) << 31) - 1;

std::vector<float> toFloats(DType type, const void *data, int64_t count) {
  std::vector<float> out(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i)
    out[size_t(i)] = data ? float(loadElement(type, data, i)) : 0.0f;
  return out;
}

void storeFloats(DType type, const std::vector<float> &values, void *data) {
  for (size_t i = 0; i < values.size(); ++i)
    storeElement(type, data, int64_t(i), values[i]);
}

float sigmoid(float v) { return 1.0f / (1.0f + std::exp(-v)); }

} // namespace

Status parseLstm(const fb::LibraryCall &call, const fb::Program &program, LstmCall *out) {
  LibraryCallReader r(call, program, kLstmRoutine);
  LstmCall c;
  if (call.library() != fb::Library::cudnn || call.routine()->str() != kLstmRoutine)
    return r.invalid("routine '" + call.routine()->str() + "' is not one this runtime runs");
  const std::string direction = r.text("direction");
  if (direction != "forward" && direction != "grad")
    return r.invalid("direction '" + direction + "' is not forward or grad");
  c.grad = direction == "grad";
  // cuDNN's sizes are ints; 4u and every tensor's element count too.
  DLC_RETURN_IF_ERROR(r.integer("n", 1, kIntLimit, &c.n), "");
  DLC_RETURN_IF_ERROR(r.integer("t", 1, kIntLimit, &c.t), "");
  DLC_RETURN_IF_ERROR(r.integer("f", 1, kIntLimit, &c.f), "");
  DLC_RETURN_IF_ERROR(r.integer("u", 1, kIntLimit / 4, &c.u), "");
  int64_t bias = 0, sequences = 0, deterministic = 0;
  DLC_RETURN_IF_ERROR(r.integer("bias", 0, 1, &bias), "");
  DLC_RETURN_IF_ERROR(r.integer("sequences", 0, 1, &sequences), "");
  DLC_RETURN_IF_ERROR(r.integer("deterministic", 0, 1, &deterministic), "");
  c.bias = bias, c.sequences = sequences, c.deterministic = deterministic;
  if (c.grad) {
    int64_t dx = 0;
    DLC_RETURN_IF_ERROR(r.integer("dx", 0, 1, &dx), "");
    c.dx = dx;
  }
  for (int64_t elements : {c.n * c.t, c.n * c.t * c.f, c.f * 4 * c.u, c.u * 4 * c.u, c.n * c.t * c.u})
    if (elements > kIntLimit || elements < 0)
      return r.invalid("a tensor of 2^31 elements or more (cuDNN's sizes are ints)");
  c.argCount = c.grad ? 6 + (c.dx ? 1 : 0) + (c.bias ? 2 : 0) : 4 + (c.bias ? 1 : 0);
  DLC_RETURN_IF_ERROR(r.checkArgCount(size_t(c.argCount)), "");
  for (int i = 0; i < c.argCount; ++i)
    c.args[i] = r.arg(size_t(i));
  c.type = r.type(c.args[0]);
  for (int i = 0; i < c.argCount; ++i)
    if (!isLibraryFloat(c.type) || r.type(c.args[i]) != c.type)
      return r.invalid("its tensors must hold one type of f32, f16 or bf16");
  // The sizes of each buffer by role (the lambda gives each its index).
  LstmBuffers<uint32_t> b = lstmBuffers<uint32_t>(c, [](uint32_t i) { return i; });
  const uint64_t gates = uint64_t(4 * c.u);
  DLC_RETURN_IF_ERROR(r.checkElements(b.x, uint64_t(c.n * c.t * c.f), "the input"), "");
  DLC_RETURN_IF_ERROR(r.checkElements(b.kernel, uint64_t(c.f) * gates, "the kernel"), "");
  DLC_RETURN_IF_ERROR(r.checkElements(b.recurrent, uint64_t(c.u) * gates, "the recurrent kernel"), "");
  if (c.bias)
    DLC_RETURN_IF_ERROR(r.checkElements(b.bias, gates, "the bias"), "");
  DLC_RETURN_IF_ERROR(r.checkElements(b.y, uint64_t(c.outputElements()), c.grad ? "dy" : "the output"), "");
  if (c.grad) {
    if (c.dx)
      DLC_RETURN_IF_ERROR(r.checkElements(b.dx, uint64_t(c.n * c.t * c.f), "dx"), "");
    DLC_RETURN_IF_ERROR(r.checkElements(b.dkernel, uint64_t(c.f) * gates, "dkernel"), "");
    DLC_RETURN_IF_ERROR(r.checkElements(b.drecurrent, uint64_t(c.u) * gates, "drecurrent"), "");
    if (c.bias)
      DLC_RETURN_IF_ERROR(r.checkElements(b.dbias, gates, "dbias"), "");
  }
  *out = c;
  return okStatus();
}

void referenceLstm(const LstmCall &c, const LstmBuffers<void *> &b) {
  const int64_t N = c.n, T = c.t, F = c.f, U = c.u, G = 4 * c.u;
  const std::vector<float> x = toFloats(c.type, b.x, N * T * F), k = toFloats(c.type, b.kernel, F * G),
                           rk = toFloats(c.type, b.recurrent, U * G),
                           bias = toFloats(c.type, c.bias ? b.bias : nullptr, G);
  // Each row's states before every step and after the last (h, c), and its
  // activated gates at every step.
  std::vector<float> H(size_t(N * (T + 1) * U), 0.0f), C(H.size(), 0.0f), A(static_cast<size_t>(N * T * G));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t t = 0; t < T; ++t) {
      const float *xt = &x[size_t((n * T + t) * F)], *h = &H[size_t((n * (T + 1) + t) * U)];
      float *a = &A[size_t((n * T + t) * G)];
      for (int64_t g = 0; g < G; ++g) {
        float z = bias[size_t(g)];
        for (int64_t i = 0; i < F; ++i)
          z += xt[i] * k[size_t(i * G + g)];
        for (int64_t j = 0; j < U; ++j)
          z += h[j] * rk[size_t(j * G + g)];
        a[g] = g >= 2 * U && g < 3 * U ? std::tanh(z) : sigmoid(z);
      }
      const float *cPrev = &C[size_t((n * (T + 1) + t) * U)];
      float *cNext = &C[size_t((n * (T + 1) + t + 1) * U)], *hNext = &H[size_t((n * (T + 1) + t + 1) * U)];
      for (int64_t j = 0; j < U; ++j) {
        cNext[j] = a[U + j] * cPrev[j] + a[j] * a[2 * U + j];
        hNext[j] = a[3 * U + j] * std::tanh(cNext[j]);
      }
    }
  if (!c.grad) {
    std::vector<float> y(static_cast<size_t>(c.outputElements()));
    for (int64_t n = 0; n < N; ++n)
      for (int64_t t = c.sequences ? 0 : T - 1; t < T; ++t)
        for (int64_t j = 0; j < U; ++j)
          y[size_t(((c.sequences ? n * T + t : n)) * U + j)] = H[size_t((n * (T + 1) + t + 1) * U + j)];
    storeFloats(c.type, y, b.y);
    return;
  }
  const std::vector<float> dy = toFloats(c.type, b.y, c.outputElements());
  std::vector<float> dx(size_t(N * T * F), 0.0f), dk(size_t(F * G), 0.0f), drk(size_t(U * G), 0.0f),
      db(size_t(G), 0.0f), dz(static_cast<size_t>(G));
  for (int64_t n = 0; n < N; ++n) {
    std::vector<float> dh(static_cast<size_t>(U), 0.0f), dc(static_cast<size_t>(U), 0.0f);
    for (int64_t t = T - 1; t >= 0; --t) {
      const float *a = &A[size_t((n * T + t) * G)];
      const float *cPrev = &C[size_t((n * (T + 1) + t) * U)], *cNext = &C[size_t((n * (T + 1) + t + 1) * U)];
      for (int64_t j = 0; j < U; ++j) {
        const float in = a[j], forget = a[U + j], cand = a[2 * U + j], out = a[3 * U + j];
        const float given = c.sequences ? dy[size_t((n * T + t) * U + j)] : t == T - 1 ? dy[size_t(n * U + j)] : 0.0f;
        const float h = dh[size_t(j)] + given, tc = std::tanh(cNext[j]);
        const float dcell = dc[size_t(j)] + h * out * (1.0f - tc * tc);
        dz[size_t(j)] = dcell * cand * in * (1.0f - in);
        dz[size_t(U + j)] = dcell * cPrev[j] * forget * (1.0f - forget);
        dz[size_t(2 * U + j)] = dcell * in * (1.0f - cand * cand);
        dz[size_t(3 * U + j)] = h * tc * out * (1.0f - out);
        dc[size_t(j)] = dcell * forget;
      }
      const float *xt = &x[size_t((n * T + t) * F)], *hPrev = &H[size_t((n * (T + 1) + t) * U)];
      for (int64_t g = 0; g < G; ++g) {
        db[size_t(g)] += dz[size_t(g)];
        for (int64_t i = 0; i < F; ++i)
          dk[size_t(i * G + g)] += xt[i] * dz[size_t(g)];
        for (int64_t j = 0; j < U; ++j)
          drk[size_t(j * G + g)] += hPrev[j] * dz[size_t(g)];
      }
      for (int64_t i = 0; i < F; ++i) {
        float sum = 0.0f;
        for (int64_t g = 0; g < G; ++g)
          sum += k[size_t(i * G + g)] * dz[size_t(g)];
        dx[size_t((n * T + t) * F + i)] = sum;
      }
      for (int64_t j = 0; j < U; ++j) {
        float sum = 0.0f;
        for (int64_t g = 0; g < G; ++g)
          sum += rk[size_t(j * G + g)] * dz[size_t(g)];
        dh[size_t(j)] = sum;
      }
    }
  }
  if (b.dx)
    storeFloats(c.type, dx, b.dx);
  storeFloats(c.type, dk, b.dkernel);
  storeFloats(c.type, drk, b.drecurrent);
  if (b.dbias)
    storeFloats(c.type, db, b.dbias);
}

} // namespace dlc::rt::cuda
