//===- op_contracts.cc - What each op of a bundle reads and writes --------===//
//
// One rule per op kind, written from the dl dialect's definitions (ODS and
// shape functions in dialects/DL/). The compiler writes only programs that
// keep them (every conformance and fuzz model loads through these checks in
// the tests); a bundle that breaks one was damaged or made by hand.
//
//===----------------------------------------------------------------------===//
#include "runtime/op_contracts.h"

#include "runtime/bundle.h"
#include "runtime/limits.h"
#include "runtime/loss_scale.h"
#include "runtime/op_attrs.h"
#include "runtime/tensor.h"

#include <cmath>
#include <optional>

namespace dlc::rt {
namespace {

using Shape = std::vector<int64_t>;
using K = fb::OpKind;

/// An operand (input) or result (output) of the op under check.
struct Ref {
  bool output;
  size_t index;
};
Ref in(size_t i) { return {false, i}; }
Ref out(size_t i) { return {true, i}; }

class Contract {
public:
  Contract(const fb::Program &program, const fb::Op &op) : program_(program), op_(op) {}

  const std::string &problem() const { return problem_; }
  const fb::Op &op() const { return op_; }

  size_t inputs() const { return op_.inputs() ? op_.inputs()->size() : 0; }
  size_t outputs() const { return op_.outputs() ? op_.outputs()->size() : 0; }

  const fb::Buffer &buffer(Ref r) const {
    auto *indices = r.output ? op_.outputs() : op_.inputs();
    return *program_.buffers()->Get(indices->Get(uint32_t(r.index)));
  }
  Shape shape(Ref r) const {
    const auto *s = buffer(r).shape();
    return Shape(s->begin(), s->end());
  }
  DType dtype(Ref r) const { return fromFbDType(buffer(r).dtype()); }
  size_t rank(Ref r) const { return buffer(r).shape()->size(); }
  /// Dimension |d| (from the end when negative); -1, which no loaded shape
  /// has, and a recorded problem when |r| has no such dimension.
  int64_t dim(Ref r, int64_t d) const {
    const auto *s = buffer(r).shape();
    int64_t at = d < 0 ? int64_t(s->size()) + d : d;
    if (at < 0 || at >= int64_t(s->size())) {
      if (problem_.empty())
        problem_ = name(r) + " has no dimension " + std::to_string(d);
      return -1;
    }
    return s->Get(uint32_t(at));
  }

  bool fail(const std::string &message) {
    if (problem_.empty())
      problem_ = message;
    return false;
  }
  std::string name(Ref r) const {
    return std::string(r.output ? "result " : "operand ") + std::to_string(r.index) + " (" +
           dtypeName(dtype(r)) + shapeString(shape(r)) + ")";
  }

  bool counts(size_t minInputs, size_t maxInputs, size_t results) {
    if (inputs() < minInputs || inputs() > maxInputs || outputs() != results)
      return fail("has " + std::to_string(inputs()) + " operands and " +
                  std::to_string(outputs()) + " results; it takes " +
                  (minInputs == maxInputs ? std::to_string(minInputs)
                                          : std::to_string(minInputs) + " to " +
                                                std::to_string(maxInputs)) +
                  " operands and " + std::to_string(results) + " results");
    return true;
  }
  bool rankIs(Ref r, size_t want) {
    return rank(r) == want || fail(name(r) + " must have rank " + std::to_string(want));
  }
  bool rankAtLeast(Ref r, size_t want) {
    return rank(r) >= want || fail(name(r) + " must have rank " + std::to_string(want) + " or more");
  }
  bool shapeIs(Ref r, const Shape &want) {
    return shape(r) == want || fail(name(r) + " must have shape " + shapeString(want));
  }
  bool sameShape(Ref r, Ref like) { return shapeIs(r, shape(like)); }
  bool dimIs(Ref r, int64_t d, int64_t want, const char *what) {
    return dim(r, d) == want ||
           fail(name(r) + " has " + what + " " + std::to_string(dim(r, d)) + ", must be " +
                std::to_string(want));
  }
  bool floatType(Ref r) {
    DType t = dtype(r);
    return t == DType::kF32 || t == DType::kF16 || t == DType::kBF16 || t == DType::kF64 ||
           fail(name(r) + " must be a float tensor");
  }
  bool indexType(Ref r) {
    DType t = dtype(r);
    return t == DType::kI32 || t == DType::kI64 || fail(name(r) + " must be i32 or i64 ids");
  }
  /// Whether an op may read or write |a| and |b| together: equal types, or
  /// both of f16, bf16 and f32 (mixed precision: 16-bit storage, converted
  /// by the backends where a kernel reads or writes it).
  static bool mixable(DType a, DType b) {
    auto storage = [](DType t) { return t == DType::kF32 || t == DType::kF16 || t == DType::kBF16; };
    return a == b || (storage(a) && storage(b));
  }
  bool likeFloat(Ref r, Ref first) {
    return floatType(r) && (mixable(dtype(r), dtype(first)) ||
                            fail(name(r) + " is " + dtypeName(dtype(r)) + ", which " + name(first) +
                                 " (" + dtypeName(dtype(first)) + ") does not mix with"));
  }
  /// Every ref a float tensor of a type that mixes with the first one's.
  bool sameFloat(std::initializer_list<Ref> refs) {
    const Ref *first = refs.begin();
    if (!floatType(*first))
      return false;
    for (const Ref &r : refs)
      if (!likeFloat(r, *first))
        return false;
    return true;
  }
  /// Every operand and result a float tensor of types that mix.
  bool allSameFloat() {
    if (!inputs() && !outputs())
      return true;
    Ref first = inputs() ? in(0) : out(0);
    if (!floatType(first))
      return false;
    for (size_t i = 0; i < inputs(); ++i)
      if (!likeFloat(in(i), first))
        return false;
    for (size_t i = 0; i < outputs(); ++i)
      if (!likeFloat(out(i), first))
        return false;
    return true;
  }

  // Attributes.
  std::optional<std::vector<int64_t>> ints(const char *attr, size_t count) {
    const fb::Attr *a = findAttr(op_, attr);
    if (!a || !a->ints() || a->ints()->size() != count) {
      fail("attribute '" + std::string(attr) + "' must be " + std::to_string(count) + " integers");
      return std::nullopt;
    }
    return std::vector<int64_t>(a->ints()->begin(), a->ints()->end());
  }
  /// Two positive integers (strides, dilation, a window).
  std::optional<std::vector<int64_t>> pair(const char *attr) {
    auto v = ints(attr, 2);
    if (v && ((*v)[0] < 1 || (*v)[1] < 1 || (*v)[0] > kMaxWindowExtent ||
              (*v)[1] > kMaxWindowExtent)) {
      fail("attribute '" + std::string(attr) + "' must be two integers in [1, " +
           std::to_string(kMaxWindowExtent) + "]");
      return std::nullopt;
    }
    return v;
  }
  std::optional<int64_t> integer(const char *attr) {
    auto v = ints(attr, 1);
    return v ? std::optional<int64_t>((*v)[0]) : std::nullopt;
  }
  /// A finite number (floats or ints), when present; |fallback| when not and not |required|.
  std::optional<double> number(const char *attr, bool required = true, double fallback = 0) {
    const fb::Attr *a = findAttr(op_, attr);
    double v;
    if (a && a->floats() && a->floats()->size() == 1)
      v = a->floats()->Get(0);
    else if (a && a->ints() && a->ints()->size() == 1)
      v = double(a->ints()->Get(0));
    else if (!a && !required)
      return fallback;
    else {
      fail("attribute '" + std::string(attr) + "' must be one number");
      return std::nullopt;
    }
    if (!std::isfinite(v)) {
      fail("attribute '" + std::string(attr) + "' is not finite");
      return std::nullopt;
    }
    return v;
  }
  /// "same" or "valid".
  std::optional<bool> samePadding() {
    std::string padding = textAttr(op_, "padding");
    if (padding != "same" && padding != "valid") {
      fail("attribute 'padding' must be same or valid, got '" + padding + "'");
      return std::nullopt;
    }
    return padding == "same";
  }
  /// |axis| of a rank-|rank| tensor, normalized.
  std::optional<int64_t> axis(size_t rank) {
    auto a = integer("axis");
    if (!a)
      return std::nullopt;
    int64_t n = *a < 0 ? *a + int64_t(rank) : *a;
    if (n < 0 || n >= int64_t(rank)) {
      fail("axis " + std::to_string(*a) + " is out of range for rank " + std::to_string(rank));
      return std::nullopt;
    }
    return n;
  }

private:
  const fb::Program &program_;
  const fb::Op &op_;
  mutable std::string problem_;
};

/// Output size of |window| (dilated by |dilation|) sliding by |stride| over
/// |size|, as the dialect's windowOutput; nullopt when the window does not fit.
std::optional<int64_t> windowOutput(int64_t size, int64_t window, int64_t stride, int64_t dilation,
                                    bool same) {
  if (window > kMaxWindowExtent)
    return std::nullopt;
  int64_t effective = dilation * (window - 1) + 1; // no overflow: both at most 2^16
  if (effective > kMaxWindowExtent)
    return std::nullopt;
  if (same)
    return (size + stride - 1) / stride;
  if (size < effective)
    return std::nullopt;
  return (size - effective) / stride + 1;
}

/// The [N, H', W', channels] a window op makes of NHWC |input|.
bool spatial(Contract &c, const Shape &input, const std::vector<int64_t> &window,
             const std::vector<int64_t> &strides, const std::vector<int64_t> &dilation, bool same,
             int64_t channels, Shape *result) {
  *result = {input[0]};
  for (int i = 0; i < 2; ++i) {
    auto size = windowOutput(input[size_t(1 + i)], window[size_t(i)], strides[size_t(i)],
                             dilation[size_t(i)], same);
    if (!size)
      return c.fail("the window " + std::to_string(window[size_t(i)]) + " (dilation " +
                    std::to_string(dilation[size_t(i)]) + ") spans more than " +
                    (same ? std::to_string(kMaxWindowExtent) : "the input " + shapeString(input)));
    result->push_back(*size);
  }
  result->push_back(channels);
  return true;
}

// --- Convolution, dense, pooling ------------------------------------------

/// The convolution relation each of conv2d's three ops states from its own
/// side: |y| is NHWC |x| under a window of |kernel|'s first two dimensions
/// (kernel [kh, kw, x's channels, y's channels]) with the op's strides,
/// dilation and padding.
bool convolution(Contract &c, Ref x, Ref kernel, Ref y) {
  if (!c.allSameFloat() || !c.rankIs(x, 4) || !c.rankIs(kernel, 4) || !c.rankIs(y, 4) ||
      !c.dimIs(kernel, 2, c.dim(x, 3), "input channels"))
    return false;
  auto strides = c.pair("strides"), dilation = c.pair("dilation");
  auto same = c.samePadding();
  Shape want;
  return strides && dilation && same &&
         spatial(c, c.shape(x), {c.dim(kernel, 0), c.dim(kernel, 1)}, *strides, *dilation, *same,
                 c.dim(kernel, 3), &want) &&
         c.shapeIs(y, want);
}

bool conv2d(Contract &c) { // input, kernel, [bias] -> output
  return c.counts(2, 3, 1) && convolution(c, in(0), in(1), out(0)) &&
         (c.inputs() == 2 || c.shapeIs(in(2), {c.dim(in(1), 3)}));
}

bool conv2dGradInput(Contract &c) { // dy, kernel -> dx
  return c.counts(2, 2, 1) && convolution(c, out(0), in(1), in(0));
}

bool conv2dGradKernel(Contract &c) { // input, dy -> dkernel
  return c.counts(2, 2, 1) && convolution(c, in(0), out(0), in(1));
}

/// |shape| with its last dimension replaced by |last|.
Shape withLast(Shape shape, int64_t last) {
  shape.back() = last;
  return shape;
}

bool dense(Contract &c) { // x [..., in], kernel [in, units], bias [units] -> [..., units]
  if (!c.counts(2, 3, 1) || !c.allSameFloat() || !c.rankAtLeast(in(0), 1) || !c.rankIs(in(1), 2) ||
      !c.dimIs(in(1), 0, c.dim(in(0), -1), "input size"))
    return false;
  int64_t units = c.dim(in(1), 1);
  return (c.inputs() == 2 || c.shapeIs(in(2), {units})) &&
         c.shapeIs(out(0), withLast(c.shape(in(0)), units));
}

bool denseGradInput(Contract &c) { // dy [..., units], kernel [in, units] -> dx [..., in]
  return c.counts(2, 2, 1) && c.allSameFloat() && c.rankAtLeast(in(0), 1) && c.rankIs(in(1), 2) &&
         c.dimIs(in(1), 1, c.dim(in(0), -1), "units") &&
         c.shapeIs(out(0), withLast(c.shape(in(0)), c.dim(in(1), 0)));
}

bool denseGradKernel(Contract &c) { // x [..., in], dy [..., units] -> [in, units]
  return c.counts(2, 2, 1) && c.allSameFloat() && c.rankAtLeast(in(0), 1) &&
         c.shapeIs(in(1), withLast(c.shape(in(0)), c.dim(in(1), -1))) &&
         c.shapeIs(out(0), {c.dim(in(0), -1), c.dim(in(1), -1)});
}

bool biasGrad(Contract &c) {
  return c.counts(1, 1, 1) && c.allSameFloat() && c.rankAtLeast(in(0), 1) &&
         c.shapeIs(out(0), {c.dim(in(0), -1)});
}

/// The pooled shape of NHWC |input| under the op's pool_size, strides, padding.
bool pooled(Contract &c, const Shape &input, Shape *result) {
  auto window = c.pair("pool_size"), strides = c.pair("strides");
  auto same = c.samePadding();
  return window && strides && same &&
         spatial(c, input, *window, *strides, {1, 1}, *same, input[3], result);
}

bool pool2d(Contract &c) {
  Shape want;
  return c.counts(1, 1, 1) && c.allSameFloat() && c.rankIs(in(0), 4) &&
         pooled(c, c.shape(in(0)), &want) && c.shapeIs(out(0), want);
}

bool maxPool2dGrad(Contract &c) { // input, dy -> dx
  Shape want;
  return c.counts(2, 2, 1) && c.allSameFloat() && c.rankIs(in(0), 4) &&
         pooled(c, c.shape(in(0)), &want) && c.shapeIs(in(1), want) && c.sameShape(out(0), in(0));
}

bool avgPool2dGrad(Contract &c) { // dy -> dx
  Shape want;
  return c.counts(1, 1, 1) && c.allSameFloat() && c.rankIs(out(0), 4) &&
         pooled(c, c.shape(out(0)), &want) && c.shapeIs(in(0), want);
}

bool globalPool2d(Contract &c) {
  return c.counts(1, 1, 1) && c.allSameFloat() && c.rankIs(in(0), 4) &&
         c.shapeIs(out(0), {c.dim(in(0), 0), c.dim(in(0), 3)});
}

bool globalMaxPool2dGrad(Contract &c) { // input, dy -> dx
  return c.counts(2, 2, 1) && c.allSameFloat() && c.rankIs(in(0), 4) &&
         c.shapeIs(in(1), {c.dim(in(0), 0), c.dim(in(0), 3)}) && c.sameShape(out(0), in(0));
}

bool globalAvgPool2dGrad(Contract &c) { // dy -> dx
  return c.counts(1, 1, 1) && c.allSameFloat() && c.rankIs(out(0), 4) &&
         c.shapeIs(in(0), {c.dim(out(0), 0), c.dim(out(0), 3)});
}

// --- Elementwise ------------------------------------------------------------

/// Operands and results of one shape and float type (activations, their
/// gradients, add).
bool elementwise(Contract &c, size_t minInputs, size_t maxInputs) {
  if (!c.counts(minInputs, maxInputs, 1) || !c.allSameFloat())
    return false;
  for (size_t i = 1; i < c.inputs(); ++i)
    if (!c.sameShape(in(i), in(0)))
      return false;
  return c.sameShape(out(0), in(0));
}

bool leakyRelu(Contract &c, size_t operands) {
  return elementwise(c, operands, operands) && c.number("negative_slope").has_value();
}

bool dropout(Contract &c) {
  if (!elementwise(c, 1, 1))
    return false;
  auto rate = c.number("rate");
  return rate && ((*rate >= 0 && *rate < 1) || c.fail("attribute 'rate' must be in [0, 1)"));
}

bool softmax(Contract &c, size_t operands) {
  return elementwise(c, operands, operands) && c.axis(c.rank(in(0))).has_value();
}

bool copy(Contract &c) {
  return c.counts(1, 1, 1) && c.sameShape(out(0), in(0)) &&
         (c.dtype(out(0)) == c.dtype(in(0)) || c.fail(c.name(out(0)) + " must have the type of " +
                                                      c.name(in(0))));
}

bool cast(Contract &c) {
  if (!c.counts(1, 1, 1) || !c.sameShape(out(0), in(0)))
    return false;
  for (Ref r : {in(0), out(0)}) {
    DType t = c.dtype(r);
    if (t != DType::kF32 && t != DType::kF16 && t != DType::kBF16 && t != DType::kF64 &&
        t != DType::kI32 && t != DType::kI64)
      return c.fail(c.name(r) + " is not a type dl.cast converts");
  }
  return true;
}

bool zeros(Contract &c) { return c.counts(0, 0, 1); }

bool concat(Contract &c) {
  if (!c.counts(2, 1u << 16, 1) || !c.allSameFloat())
    return false;
  size_t rank = c.rank(in(0));
  auto axis = c.axis(rank);
  if (!axis)
    return false;
  Shape want = c.shape(in(0));
  want[size_t(*axis)] = 0;
  for (size_t i = 0; i < c.inputs(); ++i) {
    Shape s = c.shape(in(i));
    if (s.size() != rank)
      return c.fail(c.name(in(i)) + " must have rank " + std::to_string(rank));
    for (size_t d = 0; d < rank; ++d)
      if (int64_t(d) != *axis && s[d] != want[d])
        return c.fail(c.name(in(i)) + " differs from operand 0 off the concatenation axis");
    want[size_t(*axis)] += s[size_t(*axis)];
  }
  return c.shapeIs(out(0), want);
}

bool slice(Contract &c) {
  if (!c.counts(1, 1, 1) || !c.allSameFloat() || !c.rankIs(out(0), c.rank(in(0))))
    return false;
  auto axis = c.axis(c.rank(in(0)));
  auto start = c.integer("start");
  if (!axis || !start)
    return false;
  Shape want = c.shape(in(0));
  int64_t size = c.dim(out(0), *axis);
  if (*start < 0 || *start > want[size_t(*axis)] || size > want[size_t(*axis)] - *start)
    return c.fail("the slice [" + std::to_string(*start) + ", " + std::to_string(*start) + " + " +
                  std::to_string(size) + ") lies outside " + c.name(in(0)));
  want[size_t(*axis)] = size;
  return c.shapeIs(out(0), want);
}

// --- Normalization ----------------------------------------------------------

/// The channel count of |x| along the op's axis.
std::optional<int64_t> channels(Contract &c, Ref x) {
  if (!c.rankAtLeast(x, 1))
    return std::nullopt;
  auto axis = c.axis(c.rank(x));
  return axis ? std::optional<int64_t>(c.dim(x, *axis)) : std::nullopt;
}

bool epsilonPositive(Contract &c) {
  auto epsilon = c.number("epsilon");
  return epsilon && (*epsilon > 0 || c.fail("attribute 'epsilon' must be positive"));
}

bool batchNorm(Contract &c) { // input, [gamma], [beta], mean, variance
  std::vector<int64_t> segments = operandSegments(c.op());
  if (segments.size() != 5 || segments[0] != 1 || segments[3] != 1 || segments[4] != 1 ||
      segments[1] < 0 || segments[1] > 1 || segments[2] < 0 || segments[2] > 1)
    return c.fail("attribute 'operandSegmentSizes' must be [1, 0|1, 0|1, 1, 1]");
  size_t n = size_t(3 + segments[1] + segments[2]);
  auto ch = channels(c, in(0));
  if (!c.counts(n, n, 1) || !c.allSameFloat() || !ch || !epsilonPositive(c) ||
      !c.number("momentum").has_value())
    return false;
  for (size_t i = 1; i < n; ++i)
    if (!c.shapeIs(in(i), {*ch}))
      return false;
  return c.sameShape(out(0), in(0));
}

bool batchNormGrad(Contract &c) { // input, [gamma], dy -> dx, dgamma, dbeta
  auto ch = c.inputs() ? channels(c, in(0)) : std::nullopt;
  if (!c.counts(2, 3, 3) || !c.allSameFloat() || !ch || !epsilonPositive(c))
    return false;
  size_t dy = c.inputs() - 1;
  return (c.inputs() == 2 || c.shapeIs(in(1), {*ch})) && c.sameShape(in(dy), in(0)) &&
         c.sameShape(out(0), in(0)) && c.shapeIs(out(1), {*ch}) && c.shapeIs(out(2), {*ch});
}

bool batchNormInferenceGrad(Contract &c) { // dy, [gamma], variance -> dx
  auto ch = c.inputs() ? channels(c, in(0)) : std::nullopt;
  if (!c.counts(2, 3, 1) || !c.allSameFloat() || !ch || !epsilonPositive(c))
    return false;
  for (size_t i = 1; i < c.inputs(); ++i)
    if (!c.shapeIs(in(i), {*ch}))
      return false;
  return c.sameShape(out(0), in(0));
}

bool statisticsUpdate(Contract &c) { // input, mean, variance -> mean', variance'
  auto ch = c.inputs() ? channels(c, in(0)) : std::nullopt;
  return c.counts(3, 3, 2) && c.allSameFloat() && ch && c.number("momentum").has_value() &&
         c.shapeIs(in(1), {*ch}) && c.shapeIs(in(2), {*ch}) && c.shapeIs(out(0), {*ch}) &&
         c.shapeIs(out(1), {*ch});
}

// --- Embedding, LSTM ----------------------------------------------------------

Shape appended(Shape shape, int64_t last) {
  shape.push_back(last);
  return shape;
}

bool embedding(Contract &c) { // ids, table [vocab, dim] -> ids.shape + [dim]
  return c.counts(2, 2, 1) && c.indexType(in(0)) && c.sameFloat({in(1), out(0)}) &&
         c.rankIs(in(1), 2) && c.shapeIs(out(0), appended(c.shape(in(0)), c.dim(in(1), 1)));
}

bool embeddingGrad(Contract &c) { // ids, dy -> dtable [vocab, dim]
  return c.counts(2, 2, 1) && c.indexType(in(0)) && c.sameFloat({in(1), out(0)}) &&
         c.rankIs(out(0), 2) && c.shapeIs(in(1), appended(c.shape(in(0)), c.dim(out(0), 1)));
}

/// x [N, T, F], kernel [F, 4U], recurrent_kernel [U, 4U], [bias [4U]]: U, or
/// nullopt (with the problem recorded).
std::optional<int64_t> lstmUnits(Contract &c, bool bias) {
  if (!c.rankIs(in(0), 3) || !c.rankIs(in(1), 2) || !c.rankIs(in(2), 2))
    return std::nullopt;
  int64_t units = c.dim(in(2), 0);
  if (!c.shapeIs(in(1), {c.dim(in(0), 2), 4 * units}) || !c.shapeIs(in(2), {units, 4 * units}) ||
      (bias && !c.shapeIs(in(3), {4 * units})))
    return std::nullopt;
  return units;
}

Shape lstmResult(Contract &c, int64_t units) {
  if (hasAttr(c.op(), "return_sequences"))
    return {c.dim(in(0), 0), c.dim(in(0), 1), units};
  return {c.dim(in(0), 0), units};
}

bool lstm(Contract &c) {
  if (!c.counts(3, 4, 1) || !c.allSameFloat())
    return false;
  auto units = lstmUnits(c, c.inputs() == 4);
  return units && c.shapeIs(out(0), lstmResult(c, *units));
}

// x, kernel, recurrent, [bias], dy, [states] -> dx, dkernel, drecurrent, dbias
bool lstmGrad(Contract &c) {
  if (!c.counts(4, 6, 4) || !c.allSameFloat())
    return false;
  const LstmGradInputs has = lstmGradInputs(c.inputs(), c.inputs() > 3 ? c.shape(in(3)).size() : 0);
  if (size_t(4 + has.bias + has.states) != c.inputs())
    return c.fail("takes x, kernel, recurrent kernel, [bias], dy, [states]: " + std::to_string(c.inputs()) +
                  " inputs do not fit");
  auto units = lstmUnits(c, has.bias);
  return units && c.shapeIs(in(has.dy()), lstmResult(c, *units)) &&
         (!has.states || c.shapeIs(in(has.dy() + 1), {c.dim(in(0), 0), c.dim(in(0), 1), *units})) &&
         c.sameShape(out(0), in(0)) && c.sameShape(out(1), in(1)) && c.sameShape(out(2), in(2)) &&
         c.shapeIs(out(3), {4 * *units});
}

// --- Losses, metrics, optimizers --------------------------------------------

/// prediction [N, positions..., classes] and labels of its shape (float), or
/// class ids [N, positions...] (i32, i64, or f32 holding whole numbers) when
/// |ids| allows them.
bool predictionAndLabels(Contract &c, bool ids) {
  if (!c.floatType(in(0)) || !c.rankAtLeast(in(0), 1))
    return false;
  Shape prediction = c.shape(in(0)), labels = c.shape(in(1));
  if (labels == prediction && c.floatType(in(1)))
    return true;
  Shape idsShape(prediction.begin(), prediction.end() - 1);
  DType t = c.dtype(in(1));
  if (ids && labels == idsShape && (t == DType::kI32 || t == DType::kI64 || t == DType::kF32))
    return true;
  return c.fail(c.name(in(1)) + " must be labels of the prediction's shape " +
                shapeString(prediction) +
                (ids ? " or class ids of shape " + shapeString(idsShape) : std::string()));
}

bool lossConfig(Contract &c, LossSettings *loss) {
  Setting setting;
  Status s = settingOf(c.op(), &setting, {kLossWeight});
  if (s.ok())
    s = decodeLoss(setting, loss);
  return s.ok() || c.fail(s.message());
}

/// [N] from a prediction [N, ...].
Shape perExample(Contract &c) { return {c.dim(in(0), 0)}; }

/// More gradients than any model has parameters: a bound for hostile bundles.
constexpr size_t kMaxGradients = size_t(1) << 16;

/// The loss-scaling state: [runtime/loss_scale.h's fields] f32.
bool lossScaleState(Contract &c, Ref r) {
  return (c.dtype(r) == DType::kF32 && c.shape(r) == Shape{loss_scale::kFields}) ||
         c.fail(c.name(r) + " must be the loss-scaling state, f32[" +
                std::to_string(int(loss_scale::kFields)) + "]");
}

bool lossScaleUpdate(Contract &c) { // state, grads... -> state'
  if (!c.counts(2, 2 + kMaxGradients, 1) || !lossScaleState(c, in(0)) || !lossScaleState(c, out(0)))
    return false;
  auto growth = c.integer("growth_steps");
  if (!growth)
    return false;
  if (*growth < 1)
    return c.fail("attribute 'growth_steps' must be at least 1");
  for (size_t i = 1; i < c.inputs(); ++i)
    if (!c.floatType(in(i)))
      return false;
  return true;
}

/// A gradient norm (dl.gradient_norm's result): f32[1].
bool gradientNorm(Contract &c, Ref r) {
  return (c.dtype(r) == DType::kF32 && c.shape(r) == Shape{1}) ||
         c.fail(c.name(r) + " must be a gradient norm, f32[1]");
}

bool augment(Contract &c) { // images, example ids, (seed, epoch) -> images
  if (!c.counts(3, 3, 1))
    return false;
  if (c.dtype(in(0)) != DType::kF32 || !c.rankAtLeast(in(0), 2) || c.dtype(out(0)) != DType::kF32 ||
      c.rank(out(0)) != c.rank(in(0)) || c.dim(out(0), 0) != c.dim(in(0), 0))
    return c.fail("augment maps an f32 batch to an f32 batch");
  if (c.dtype(in(1)) != DType::kI64 || !c.shapeIs(in(1), {c.dim(in(0), 0)}))
    return c.fail(c.name(in(1)) + " must hold each example's index, i64[batch]");
  if (c.dtype(in(2)) != DType::kI64 || !c.shapeIs(in(2), {2}))
    return c.fail(c.name(in(2)) + " must be (seed, epoch), i64[2]");
  data::TransformSpec spec;
  uint64_t position = 0;
  if (Status s = transformOf(c.op(), &spec, &position); !s.ok())
    return c.fail(s.message());
  const Shape batch = c.shape(in(0)), image(batch.begin() + 1, batch.end());
  const Shape result = c.shape(out(0)), transformed(result.begin() + 1, result.end());
  data::Pipeline pipeline;
  if (Status s = data::Pipeline::create({spec}, image, DType::kF32, &pipeline, position); !s.ok())
    return c.fail(s.message());
  if (pipeline.outputShape() != transformed)
    return c.fail("transform '" + spec.kind + "' makes " + shapeString(pipeline.outputShape()) +
                  " of " + shapeString(image) + ", not " + shapeString(transformed));
  // The step's crops are random windows of images at least their size (one
  // that would resize stays with the loader).
  return spec.kind != "resize" && (spec.kind != "random_crop" || (image[0] >= transformed[0] &&
                                                                  image[1] >= transformed[1])) ||
         c.fail("augment does not resize ('" + spec.kind + "' from " + shapeString(image) + ")");
}

bool gradientNorm(Contract &c) { // grads... -> norm
  if (!c.counts(1, kMaxGradients, 1) || !gradientNorm(c, out(0)))
    return false;
  for (size_t i = 0; i < c.inputs(); ++i)
    if (!c.floatType(in(i)))
      return false;
  return true;
}

bool loss(Contract &c, K kind) {
  LossSettings settings;
  if (kind == K::loss_grad && c.inputs() == 3 && !lossScaleState(c, in(2)))
    return false;
  if (!c.counts(2, kind == K::loss_grad ? 3 : 2, 1) || !lossConfig(c, &settings) ||
      !predictionAndLabels(c, settings.kind == LossKind::kSparseCategoricalCrossentropy) ||
      !c.floatType(out(0)))
    return false;
  // One output's share of a model's loss (absent: 1).
  std::optional<double> weight = c.number(kLossWeight, /*required=*/false, 1.0);
  if (!weight)
    return false;
  if (!(*weight >= 0 && std::isfinite(*weight)))
    return c.fail("attribute 'weight' must be finite and not negative");
  if (kind == K::loss)
    return c.shapeIs(out(0), {});
  if (kind == K::loss_grad)
    return c.sameShape(out(0), in(0));
  return c.shapeIs(out(0), perExample(c)); // example_loss
}

bool metric(Contract &c) {
  if (!c.counts(2, 2, 1) || !c.floatType(out(0)))
    return false;
  std::string rule = textAttr(c.op(), "rule");
  if (rule != "top_k" && rule != "binary")
    return c.fail("attribute 'rule' must be top_k or binary, got '" + rule + "'");
  auto k = c.integer("k");
  if (!k || !c.number("threshold").has_value())
    return false;
  if (rule == "top_k" && (*k < 1 || *k > c.dim(in(0), -1)))
    return c.fail("attribute 'k' must be in [1, " + std::to_string(c.dim(in(0), -1)) + "]");
  return predictionAndLabels(c, rule == "top_k") && c.shapeIs(out(0), perExample(c));
}

// param, grad, step, slots..., [loss scale], [norm] -> param', slots'...
bool optimizerUpdate(Contract &c) {
  if (!c.counts(3, 3 + 9, c.outputs()) || c.outputs() < 1)
    return c.fail("has no results");
  Setting setting;
  OptimizerSettings settings;
  Status s = settingOf(c.op(), &setting);
  if (s.ok())
    s = decodeOptimizer(setting, &settings);
  if (!s.ok())
    return c.fail(s.message());
  size_t slots = optimizerSlots(settings).size();
  const bool clipped = normClip(settings) > 0;
  const size_t fixed = 3 + slots + (clipped ? 1 : 0);
  bool scaled = c.inputs() == fixed + 1;
  if ((c.inputs() != fixed && !scaled) || c.outputs() != 1 + slots)
    return c.fail("has " + std::to_string(c.inputs()) + " operands and " +
                  std::to_string(c.outputs() - 1) + " slot results; " + setting.kind +
                  " with these options keeps " + std::to_string(slots) + " slots" +
                  (clipped ? ", takes the gradient norm last" : "") +
                  " (and may take the loss-scaling state after the slots)");
  if (scaled && !lossScaleState(c, in(3 + slots)))
    return false;
  if (clipped && !gradientNorm(c, in(c.inputs() - 1)))
    return false;
  if (c.dtype(in(2)) != DType::kI64 || c.rank(in(2)) != 0)
    return c.fail(c.name(in(2)) + " must be the step, an i64 scalar");
  if (!c.sameFloat({in(0), in(1), out(0)}) || !c.sameShape(in(1), in(0)) ||
      !c.sameShape(out(0), in(0)))
    return false;
  for (size_t i = 0; i < slots; ++i)
    if (!c.sameFloat({in(0), in(3 + i), out(1 + i)}) || !c.sameShape(in(3 + i), in(0)) ||
        !c.sameShape(out(1 + i), in(0)))
      return false;
  return true;
}

bool check(Contract &c, K kind) {
  switch (kind) {
  case K::copy: return copy(c);
  case K::zeros: return zeros(c);
  case K::conv2d: return conv2d(c);
  case K::conv2d_grad_input: return conv2dGradInput(c);
  case K::conv2d_grad_kernel: return conv2dGradKernel(c);
  case K::dense: return dense(c);
  case K::dense_grad_input: return denseGradInput(c);
  case K::dense_grad_kernel: return denseGradKernel(c);
  case K::bias_grad: return biasGrad(c);
  case K::max_pool2d:
  case K::avg_pool2d: return pool2d(c);
  case K::global_max_pool2d:
  case K::global_avg_pool2d: return globalPool2d(c);
  case K::max_pool2d_grad: return maxPool2dGrad(c);
  case K::avg_pool2d_grad: return avgPool2dGrad(c);
  case K::global_max_pool2d_grad: return globalMaxPool2dGrad(c);
  case K::global_avg_pool2d_grad: return globalAvgPool2dGrad(c);
  case K::relu:
  case K::sigmoid:
  case K::tanh:
  case K::gelu: return elementwise(c, 1, 1);
  case K::leaky_relu: return leakyRelu(c, 1);
  case K::relu_grad:
  case K::sigmoid_grad:
  case K::tanh_grad:
  case K::gelu_grad: return elementwise(c, 2, 2);
  case K::leaky_relu_grad: return leakyRelu(c, 2);
  case K::softmax: return softmax(c, 1);
  case K::softmax_grad: return softmax(c, 2);
  case K::add: return elementwise(c, 2, 1u << 16);
  case K::concat: return concat(c);
  case K::slice: return slice(c);
  case K::dropout: return dropout(c);
  case K::batch_norm: return batchNorm(c);
  case K::batch_norm_grad: return batchNormGrad(c);
  case K::batch_norm_inference_grad: return batchNormInferenceGrad(c);
  case K::batch_norm_statistics_update: return statisticsUpdate(c);
  case K::embedding: return embedding(c);
  case K::embedding_grad: return embeddingGrad(c);
  case K::lstm: return lstm(c);
  case K::lstm_grad: return lstmGrad(c);
  case K::loss:
  case K::loss_grad:
  case K::example_loss: return loss(c, kind);
  case K::metric: return metric(c);
  case K::optimizer_update: return optimizerUpdate(c);
  case K::loss_scale_update: return lossScaleUpdate(c);
  case K::gradient_norm: return gradientNorm(c);
  case K::augment: return augment(c);
  case K::cast: return cast(c);
  }
  return c.fail("op kind " + std::to_string(int(kind)) + " has no contract");
}

} // namespace

LstmGradInputs lstmGradInputs(size_t inputs, size_t fourthRank) {
  LstmGradInputs has;
  has.bias = inputs >= 5 && fourthRank == 1;
  has.states = inputs == size_t(5 + has.bias);
  return has;
}

std::string checkOpContract(const fb::Program &program, const fb::Op &op) {
  Contract c(program, op);
  bool kept = check(c, op.kind());
  if (kept && c.problem().empty())
    return "";
  return c.problem().empty() ? "breaks its contract" : c.problem();
}

} // namespace dlc::rt
