// onednn_bf16_conv.cc - Does oneDNN's bf16 convolution pay on this CPU?
//
// The mixed-precision issue asks for oneDNN's bf16 paths where the CPU has
// them (avx512_bf16). This times Debian's oneDNN convolution forward in f32
// and in bf16 (f32 accumulation, the same NHWC layout and shapes as the
// MNIST CNN's second convolution and a VGG16 block-2 convolution), in one
// run, and prints the ratio:
//
//   g++ -O2 bench/onednn_bf16_conv.cc -o /tmp/onednn_bf16_conv -ldnnl
//   OMP_NUM_THREADS=1 /tmp/onednn_bf16_conv
//
// 2026-12-05, this 2-core AMD EPYC machine (avx512_bf16, oneDNN 2.6.3), one
// thread: bf16 took 1.9-2.0x the f32 time on both shapes
// (brgconv:avx512_core_bf16 against brgconv:avx512_core), so the CPU backend
// keeps converting 16-bit operands to f32 around its calls
// (docs/mixed-precision.md).
#include <oneapi/dnnl/dnnl.hpp>

#include <chrono>
#include <cstdio>

using namespace dnnl;

namespace {

/// Milliseconds per 3x3 valid convolution of [n, h, h, c] to f channels.
double milliseconds(memory::data_type type, int n, int h, int c, int f, const char **impl) {
  engine cpu(engine::kind::cpu, 0);
  stream s(cpu);
  memory::desc src({n, c, h, h}, type, memory::format_tag::nhwc);
  memory::desc weights({f, c, 3, 3}, type, memory::format_tag::any);
  memory::desc bias({f}, memory::data_type::f32, memory::format_tag::x);
  memory::desc dst({n, f, h - 2, h - 2}, type, memory::format_tag::nhwc);
  auto pd = convolution_forward::primitive_desc(
      convolution_forward::desc(prop_kind::forward_inference, algorithm::convolution_direct, src,
                                weights, bias, dst, {1, 1}, {0, 0}, {0, 0}),
      cpu);
  memory x(pd.src_desc(), cpu), w(pd.weights_desc(), cpu), b(bias, cpu), y(pd.dst_desc(), cpu);
  convolution_forward conv(pd);
  auto once = [&] {
    conv.execute(s, {{DNNL_ARG_SRC, x}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_BIAS, b}, {DNNL_ARG_DST, y}});
    s.wait();
  };
  for (int i = 0; i < 5; ++i)
    once();
  const int reps = 30;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < reps; ++i)
    once();
  static char name[128];
  std::snprintf(name, sizeof name, "%s", pd.impl_info_str());
  *impl = name;
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() /
         reps;
}

} // namespace

int main() {
  struct Shape {
    const char *name;
    int n, h, c, f;
  } shapes[] = {{"MNIST conv 2 (32x13x13x32 -> 64)", 32, 13, 32, 64},
                {"VGG16 block 2 (8x56x56x64 -> 64)", 8, 56, 64, 64}};
  std::printf("| convolution | f32 ms | bf16 ms | bf16 / f32 | bf16 implementation |\n|---|---:|---:|---:|---|\n");
  for (const Shape &s : shapes) {
    const char *f32Impl = nullptr, *bf16Impl = nullptr;
    double f32 = milliseconds(memory::data_type::f32, s.n, s.h, s.c, s.f, &f32Impl);
    double bf16 = milliseconds(memory::data_type::bf16, s.n, s.h, s.c, s.f, &bf16Impl);
    std::printf("| %s | %.3f | %.3f | %.2f | %s |\n", s.name, f32, bf16, bf16 / f32, bf16Impl);
  }
}
