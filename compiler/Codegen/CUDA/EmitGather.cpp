//===- EmitGather.cpp - Ops whose elements read elsewhere in their inputs -===//
//
// Pooling (forward and backward), concat and slice compute each element of
// their result from other positions of their operands: one thread per result
// element reads them, so these ops join elementwise chains (max_pool2d_grad
// + relu_grad + bias_grad is one grid-stride kernel) without atomics. Window placement
// (TF `same` padding) and max tie-breaking (the first maximum in row-major
// window order, padding excluded) are those of the reference evaluator.
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/CUDA/EmitterSupport.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;

namespace dlc::cuda {
namespace {

ArrayRef<int64_t> shapeOf(Value v) { return cast<ShapedType>(v.getType()).getShape(); }

/// A pooling window over an NHWC input of h x w, producing oh x ow.
struct Window {
  int64_t h, w, c, oh, ow, ph, pw, sh, sw, pt, pl;
};

Window windowOf(Operation *op, ArrayRef<int64_t> input) {
  auto size = op->getAttrOfType<DenseI64ArrayAttr>("pool_size").asArrayRef();
  auto strides = op->getAttrOfType<DenseI64ArrayAttr>("strides").asArrayRef();
  bool same = cast<dl::PaddingAttr>(op->getAttr("padding")).getValue() == dl::Padding::same;
  WindowAxis ay = windowAxis(input[1], size[0], strides[0], 1, same);
  WindowAxis ax = windowAxis(input[2], size[1], strides[1], 1, same);
  return {input[1], input[2], input[3], ay.out, ax.out, size[0], size[1],
          strides[0], strides[1], ay.padBefore, ax.padBefore};
}

/// Decodes result element i of an [N, OH, OW, C] tensor into b, py, px, c.
std::string decodeOutput(const Window &g) {
  return "  const long long c = i % " + ll(g.c) + ", px = (i / " + ll(g.c) + ") % " + ll(g.ow) +
         ", py = (i / " + ll(g.c * g.ow) + ") % " + ll(g.oh) + ", b = i / " +
         ll(g.c * g.ow * g.oh) + ";\n";
}

/// Decodes input element i of an [N, H, W, C] tensor into b, y, x, c.
std::string decodeInput(const Window &g) {
  return "  const long long c = i % " + ll(g.c) + ", x = (i / " + ll(g.c) + ") % " + ll(g.w) +
         ", y = (i / " + ll(g.c * g.w) + ") % " + ll(g.h) + ", b = i / " + ll(g.c * g.w * g.h) +
         ";\n";
}

/// Loops over the in-range taps of window (py, px); the body sees iy, ix.
std::string forTaps(const Window &g, const std::string &body) {
  return "  for (long long ky = 0; ky < " + ll(g.ph) + "; ++ky) {\n    const long long iy = py * " +
         ll(g.sh) + " - " + ll(g.pt) + " + ky;\n    if (iy < 0 || iy >= " + ll(g.h) +
         ") continue;\n    for (long long kx = 0; kx < " + ll(g.pw) +
         "; ++kx) {\n      const long long ix = px * " + ll(g.sw) + " - " + ll(g.pl) +
         " + kx;\n      if (ix < 0 || ix >= " + ll(g.w) + ") continue;\n" + body + "    }\n  }\n";
}

/// Loops over the windows (py, px) that contain input position (y, x).
std::string forWindowsContaining(const Window &g, const std::string &body) {
  auto range = [&](const std::string &p, const std::string &v, int64_t pad, int64_t size,
                   int64_t stride, int64_t out) {
    return "  const long long " + p + "Lo = " + v + " + " + ll(pad - size + 1) + " <= 0 ? 0 : (" +
           v + " + " + ll(pad - size + 1) + " + " + ll(stride - 1) + ") / " + ll(stride) + ";\n" +
           "  const long long " + p + "Hi = (" + v + " + " + ll(pad) + ") / " + ll(stride) + " < " +
           ll(out - 1) + " ? (" + v + " + " + ll(pad) + ") / " + ll(stride) + " : " + ll(out - 1) +
           ";\n";
  };
  return range("py", "y", g.pt, g.ph, g.sh, g.oh) + range("px", "x", g.pl, g.pw, g.sw, g.ow) +
         "  for (long long py = pyLo; py <= pyHi; ++py)\n    for (long long px = pxLo; px <= pxHi; "
         "++px) {\n" + body + "    }\n";
}

std::string at(const std::string &buffer, const std::string &b, const std::string &y,
               const std::string &x, int64_t h, int64_t w, int64_t c) {
  return buffer + "[((" + b + " * " + ll(h) + " + " + y + ") * " + ll(w) + " + " + x + ") * " +
         ll(c) + " + c]";
}

/// The first maximum of window (py, px) of x, as iy * W + ix (-1 if empty).
std::string firstMaxOfWindow(const ComputeType &t, const Window &g) {
  return "  long long best = -1;\n  " + t.name() + " top = " + t.lit("0.0") + ";\n" +
         forTaps(g, "      const " + t.name() + " v = " + at("src", "b", "iy", "ix", g.h, g.w, g.c) +
                        ";\n      if (best < 0 || v > top) { best = iy * " + ll(g.w) +
                        " + ix; top = v; }\n");
}


/// concat: element i of the result lies in the input whose part of the axis
/// holds its position along the axis.
std::string concatBody(const ComputeType &t, dl::ConcatOp op) {
  int64_t axis = op.getAxis();
  AxisSplit out = splitAt(shapeOf(op.getResult()), axis);
  std::string s = "  const long long inner = i % " + ll(out.inner) + ", at = (i / " + ll(out.inner) +
                  ") % " + ll(out.size) + ", outer = i / " + ll(out.inner * out.size) + ";\n";
  int64_t start = 0;
  for (auto [k, v] : llvm::enumerate(op.getInputs())) {
    int64_t size = splitAt(shapeOf(v), axis).size;
    s += "  if (at < " + ll(start + size) + ")\n    return in" + std::to_string(k) + "[(outer * " +
         ll(size) + " + at - " + ll(start) + ") * " + ll(out.inner) + " + inner];\n";
    start += size;
  }
  return s + "  return " + t.lit("0.0") + ";\n";
}

/// slice: element i of the part is element start + position of the whole.
std::string sliceBody(dl::SliceOp op) {
  AxisSplit part = splitAt(shapeOf(op.getResult()), op.getAxis());
  AxisSplit whole = splitAt(shapeOf(op.getInput()), op.getAxis());
  return "  const long long inner = i % " + ll(part.inner) + ", at = (i / " + ll(part.inner) +
         ") % " + ll(part.size) + ", outer = i / " + ll(part.inner * part.size) + ";\n" +
         "  return src[(outer * " + ll(whole.size) + " + " + ll(op.getStart()) + " + at) * " +
         ll(whole.inner) + " + inner];\n";
}

} // namespace

bool isGatherOp(Operation *op) {
  return isa<dl::ConcatOp, dl::SliceOp, dl::MaxPool2DOp, dl::AvgPool2DOp, dl::GlobalMaxPool2DOp, dl::GlobalAvgPool2DOp,
             dl::MaxPool2DGradOp, dl::AvgPool2DGradOp, dl::GlobalMaxPool2DGradOp,
             dl::GlobalAvgPool2DGradOp>(op);
}

std::string gatherFunction(const ComputeType &t, Operation *op, const std::string &name) {
  const std::string T = t.name(), zero = t.lit("0.0"), count = t.cast("count");
  // Pools read src; gradients read (src, grad) or only grad. Each is a
  // pointer or a view (bufferViews) of a buffer: a template parameter.
  std::vector<std::string> names = {"src"};
  if (auto concat = dyn_cast<dl::ConcatOp>(op)) {
    names.clear();
    for (unsigned i = 0; i < concat.getInputs().size(); ++i)
      names.push_back("in" + std::to_string(i));
  }
  if (isa<dl::MaxPool2DGradOp, dl::GlobalMaxPool2DGradOp>(op))
    names = {"src", "grad"};
  else if (isa<dl::AvgPool2DGradOp, dl::GlobalAvgPool2DGradOp>(op))
    names = {"grad"};
  std::string types, params;
  for (size_t i = 0; i < names.size(); ++i) {
    types += std::string(i ? ", " : "") + "typename P" + std::to_string(i);
    params += "P" + std::to_string(i) + " " + names[i] + ", ";
  }
  std::string head = "template <" + types + ">\n__device__ __forceinline__ " + T + " " + name + "(" +
                     params + "long long i) {\n";
  std::string body = llvm::TypeSwitch<Operation *, std::string>(op)
      .Case([&](dl::ConcatOp c) { return concatBody(t, c); })
      .Case([&](dl::SliceOp c) { return sliceBody(c); })
      .Case([&](dl::MaxPool2DOp p) {
        Window g = windowOf(op, shapeOf(p.getInput()));
        return decodeOutput(g) + "  " + T + " r = " + t.negInfinity() + ";\n" +
               forTaps(g, "      r = " + t.fn("fmax") + "(r, " + at("src", "b", "iy", "ix", g.h, g.w, g.c) + ");\n") +
               "  return r;\n";
      })
      .Case([&](dl::AvgPool2DOp p) {
        Window g = windowOf(op, shapeOf(p.getInput()));
        return decodeOutput(g) + "  " + T + " r = " + zero + ";\n  int count = 0;\n" +
               forTaps(g, "      r += " + at("src", "b", "iy", "ix", g.h, g.w, g.c) + ";\n      ++count;\n") +
               "  return count ? r / " + count + " : " + zero + ";\n";
      })
      .Case([&](dl::MaxPool2DGradOp p) {
        Window g = windowOf(op, shapeOf(p.getInput()));
        return decodeInput(g) + "  " + T + " r = " + zero + ";\n" +
               forWindowsContaining(g, firstMaxOfWindow(t, g) + "      if (best == y * " + ll(g.w) +
                                           " + x) r += " +
                                           at("grad", "b", "py", "px", g.oh, g.ow, g.c) + ";\n") +
               "  return r;\n";
      })
      .Case([&](dl::AvgPool2DGradOp p) {
        Window g = windowOf(op, shapeOf(p.getDx()));
        return decodeInput(g) + "  " + T + " r = " + zero + ";\n" +
               forWindowsContaining(
                   g, "      int count = 0;\n" + forTaps(g, "      ++count;\n") + "      r += " +
                          at("grad", "b", "py", "px", g.oh, g.ow, g.c) + " / " + count + ";\n") +
               "  return r;\n";
      })
      .Case([&](dl::GlobalMaxPool2DOp p) {
        auto s = shapeOf(p.getInput());
        int64_t hw = s[1] * s[2], c = s[3];
        return "  const long long c = i % " + ll(c) + ", b = i / " + ll(c) +
               ";\n  " + T + " r = " + t.negInfinity() + ";\n  for (long long p = 0; p < " + ll(hw) +
               "; ++p) r = " + t.fn("fmax") + "(r, src[(b * " + ll(hw) + " + p) * " + ll(c) + " + c]);\n  return r;\n";
      })
      .Case([&](dl::GlobalAvgPool2DOp p) {
        auto s = shapeOf(p.getInput());
        int64_t hw = s[1] * s[2], c = s[3];
        return "  const long long c = i % " + ll(c) + ", b = i / " + ll(c) +
               ";\n  " + T + " r = " + zero + ";\n  for (long long p = 0; p < " + ll(hw) + "; ++p) r += src[(b * " +
               ll(hw) + " + p) * " + ll(c) + " + c];\n  return r / " + t.lit(std::to_string(hw) + ".0") + ";\n";
      })
      .Case([&](dl::GlobalMaxPool2DGradOp p) {
        auto s = shapeOf(p.getInput());
        int64_t hw = s[1] * s[2], c = s[3];
        return "  const long long c = i % " + ll(c) + ", p = (i / " + ll(c) + ") % " + ll(hw) +
               ", b = i / " + ll(c * hw) + ";\n  long long best = 0;\n  " + T + " top = src[b * " +
               ll(hw * c) + " + c];\n  for (long long q = 1; q < " + ll(hw) +
               "; ++q) {\n    const " + T + " v = src[(b * " + ll(hw) + " + q) * " + ll(c) +
               " + c];\n    if (v > top) { best = q; top = v; }\n  }\n  return best == p ? grad[b * " +
               ll(c) + " + c] : " + zero + ";\n";
      })
      .Case([&](dl::GlobalAvgPool2DGradOp p) {
        auto s = shapeOf(p.getDx());
        int64_t hw = s[1] * s[2], c = s[3];
        return "  const long long c = i % " + ll(c) + ", b = i / " + ll(c * hw) + ";\n  return grad[b * " +
               ll(c) + " + c] / " + t.lit(std::to_string(hw) + ".0") + ";\n";
      })
      .Default([](Operation *) { return std::string(); });
  return head + body + "}\n";
}

} // namespace dlc::cuda
