//===- lstm_test.cc - The "lstm" library routine's contract ---------------===//
//
// parseLstm takes the calls the contract allows and refuses the rest (a
// bundle is untrusted input); referenceLstm, what the emulation runs for
// cuDNN's RNN, computes the contract: one step worked by hand, and the
// gradient against central differences of the forward pass.
//
//===----------------------------------------------------------------------===//
#include "runtime/cuda/lstm.h"

#include "runtime/cuda/library_call_test_util.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>
#include <vector>

namespace dlc::rt::cuda {
namespace {

using testing::LibraryCallSpec;
using testing::missing;

/// n = 2, t = 3, f = 4, u = 5, a bias, the last state only, the gradient:
/// x, kernel, recurrent, bias, dy, dx, dkernel, drecurrent, dbias.
LibraryCallSpec call() {
  return {fb::Library::cudnn,
          "lstm",
          {{"n", 2}, {"t", 3}, {"f", 4}, {"u", 5}, {"bias", 1}, {"sequences", 0}, {"deterministic", 0}, {"dx", 1}},
          {{"direction", "grad"}},
          {{2, 3, 4}, {4, 20}, {5, 20}, {20}, {2, 5}, {2, 3, 4}, {4, 20}, {5, 20}, {20}},
          std::vector<fb::DType>(9, fb::DType::F32),
          {0, 1, 2, 3, 4, 5, 6, 7, 8}};
}

std::string refusal(const std::function<void(LibraryCallSpec &)> &edit) {
  LibraryCallSpec c = call();
  edit(c);
  return testing::verdict<LstmCall>(c, parseLstm);
}

TEST(LstmContract, RefusesWhatTheContractDoesNotAllow) {
  using C = LibraryCallSpec;
  EXPECT_EQ(refusal([](C &) {}), "accepted");
  EXPECT_EQ(missing(refusal([](C &c) { c.routine = "gru"; }), "routine 'gru' is not one this runtime runs"), "");
  EXPECT_EQ(missing(refusal([](C &c) { c.setText("direction", "backward"); }), "direction 'backward'"), "");
  EXPECT_EQ(missing(refusal([](C &c) { c.set("u", 0); }), "'u' is 0, outside"), "");
  EXPECT_EQ(missing(refusal([](C &c) { c.set("sequences", 2); }), "'sequences' is 2"), "");
  EXPECT_EQ(missing(refusal([](C &c) {
                      c.set("n", 1 << 16);
                      c.set("t", 1 << 16);
                    }),
                    "2^31 elements or more"),
            "");
  EXPECT_EQ(missing(refusal([](C &c) { c.args.pop_back(); }), "takes 9 buffers, the call names 8"), "");
  EXPECT_EQ(missing(refusal([](C &c) { c.types[7] = fb::DType::BF16; }), "one type of f32, f16 or bf16"), "");
  // dy of every step where the call keeps only the last.
  EXPECT_EQ(missing(refusal([](C &c) { c.shapes[4] = {2, 3, 5}; }), "dy holds 120 bytes, not the 40"), "");
  EXPECT_EQ(missing(refusal([](C &c) { c.shapes[2] = {4, 20}; }), "the recurrent kernel holds 320 bytes"), "");
  // Without dx (a first layer's input), without a bias (nor its gradient).
  EXPECT_EQ(refusal([](C &c) {
              c.set("dx", 0);
              c.dropBuffer(5);
            }),
            "accepted");
  EXPECT_EQ(refusal([](C &c) {
              c.set("bias", 0);
              c.dropBuffer(8);
              c.dropBuffer(3);
            }),
            "accepted");
  // The forward direction: x, kernel, recurrent, bias, y.
  EXPECT_EQ(refusal([](C &c) {
              c.setText("direction", "forward");
              c.drop("dx"); // the gradient's only
              for (uint32_t b : {8u, 7u, 6u, 5u})
                c.dropBuffer(b);
            }),
            "accepted");
}

TEST(LstmContract, OneStepByHand) {
  // n = t = f = u = 1: z = x k + b (h starts at 0), c = i g, h = o tanh(c).
  LstmCall c;
  c.n = c.t = c.f = c.u = 1;
  c.bias = true;
  float x[1] = {0.5f}, k[4] = {1, 2, 3, 4}, rk[4] = {9, 9, 9, 9}, b[4] = {0, 0, 0.1f, -1}, y[1];
  referenceLstm(c, {x, k, rk, b, y});
  auto sigmoid = [](float v) { return 1 / (1 + std::exp(-v)); };
  const float cell = sigmoid(0.5f) * std::tanh(1.5f + 0.1f);
  EXPECT_NEAR(y[0], sigmoid(2.0f - 1.0f) * std::tanh(cell), 1e-6f);
}

TEST(LstmContract, TheGradientMatchesCentralDifferences) {
  // d/dw of sum(y * dy) for every input and weight, over a sequence whose
  // every state is returned, and over one whose last only is.
  for (bool sequences : {true, false}) {
    LstmCall c;
    c.n = 2, c.t = 3, c.f = 3, c.u = 2, c.bias = true, c.sequences = sequences;
    const int64_t G = 4 * c.u;
    std::mt19937 rng(11);
    std::uniform_real_distribution<float> draw(-0.8f, 0.8f);
    auto random = [&](int64_t count) {
      std::vector<float> v(static_cast<size_t>(count));
      for (float &e : v)
        e = draw(rng);
      return v;
    };
    std::vector<float> x = random(c.n * c.t * c.f), k = random(c.f * G), rk = random(c.u * G), b = random(G),
                       dy = random(c.outputElements());
    auto objective = [&]() {
      std::vector<float> y(static_cast<size_t>(c.outputElements()));
      LstmCall forward = c;
      forward.grad = false;
      referenceLstm(forward, {x.data(), k.data(), rk.data(), b.data(), y.data()});
      double sum = 0;
      for (size_t i = 0; i < y.size(); ++i)
        sum += double(y[i]) * dy[i];
      return sum;
    };
    std::vector<float> dx(x.size()), dk(k.size()), drk(rk.size()), db(b.size());
    LstmCall grad = c;
    grad.grad = true;
    referenceLstm(grad, {x.data(), k.data(), rk.data(), b.data(), dy.data(), dx.data(), dk.data(), drk.data(),
                         db.data()});
    for (auto [values, gradient] : {std::pair{&x, &dx}, std::pair{&k, &dk}, std::pair{&rk, &drk}, std::pair{&b, &db}})
      for (size_t i = 0; i < values->size(); ++i) {
        const float saved = (*values)[i], h = 1e-2f;
        (*values)[i] = saved + h;
        const double up = objective();
        (*values)[i] = saved - h;
        const double down = objective();
        (*values)[i] = saved;
        EXPECT_NEAR((*gradient)[i], (up - down) / (2 * h), 2e-3) << "sequences " << sequences << ", element " << i;
      }
  }
}

} // namespace
} // namespace dlc::rt::cuda
