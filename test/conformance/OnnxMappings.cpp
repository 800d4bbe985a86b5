//===- OnnxMappings.cpp - ONNX nodes as dl functions ----------------------===//
//
// One mapping rule per ONNX op: writes the dl function of a case as MLIR text
// and says how to bring each result back to ONNX's layout. ONNX and dl
// disagree on layouts, so the rules convert: images NCHW -> NHWC, conv
// weights OIHW -> [kh, kw, in, out], LSTM weights from ONNX's gate order
// (i, o, f, c) to Keras' (i, f, c, o). A case dl cannot express
// (broadcasting, asymmetric padding, ceil_mode, ops without a dl
// counterpart, ...) gets a skip reason.
//
//===----------------------------------------------------------------------===//
#include "OnnxMappings.h"

#include "compiler/Reference/Kernels.h"

#include <algorithm>
#include <cstdio>
#include <map>

namespace dlc::conformance {

namespace {

//===----------------------------------------------------------------------===//
// The dl function of a case
//===----------------------------------------------------------------------===//

std::string tensorType(const std::vector<int64_t> &shape, const std::string &element) {
  std::string text = "tensor<";
  for (int64_t dim : shape)
    text += std::to_string(dim) + "x";
  return text + element + ">";
}

std::string elementType(const OnnxTensor &t) {
  if (t.dtype == "float16")
    return "f16";
  if (t.dtype == "int64")
    return "i64";
  if (t.dtype == "int32")
    return "i32";
  return "f32";
}

/// An exactly round-tripping f64 attribute.
std::string f64(double value) {
  char text[64];
  std::snprintf(text, sizeof text, "%.17e : f64", value);
  return text;
}

std::string pairAttr(const char *name, int64_t a, int64_t b) {
  return std::string(name) + " = array<i64: " + std::to_string(a) + ", " + std::to_string(b) + ">";
}

std::string join(const std::vector<std::string> &parts) {
  std::string text;
  for (size_t i = 0; i < parts.size(); ++i)
    text += (i ? ", " : "") + parts[i];
  return text;
}

/// Writes `func.func @main` one op at a time; every argument's value is kept
/// for the evaluator.
class FuncText {
public:
  explicit FuncText(std::string element) : element(std::move(element)) {}

  std::string arg(RefTensor value, const std::string &type = "") {
    std::string name = "%a" + std::to_string(arguments.size());
    types[name] = tensorType(value.shape, type.empty() ? element : type);
    declarations.push_back(name + ": " + types[name]);
    arguments.push_back(std::move(value));
    return name;
  }

  std::string op(const std::string &mnemonic, const std::vector<std::string> &operands,
                 const std::string &attrs, const std::vector<int64_t> &resultShape) {
    std::string name = "%v" + std::to_string(count++);
    std::vector<std::string> operandTypes;
    for (const std::string &operand : operands)
      operandTypes.push_back(types.at(operand));
    types[name] = tensorType(resultShape, element);
    body += "  " + name + " = " + mnemonic + " " + join(operands) +
            (attrs.empty() ? "" : " {" + attrs + "}") + " : (" + join(operandTypes) + ") -> " +
            types[name] + "\n";
    return name;
  }

  void result(const std::string &value) { results.push_back(value); }

  std::string text() const {
    std::vector<std::string> resultTypes;
    for (const std::string &value : results)
      resultTypes.push_back(types.at(value));
    return "func.func @main(" + join(declarations) + ") -> (" + join(resultTypes) + ") {\n" +
           body + "  return " + join(results) + " : " + join(resultTypes) + "\n}\n";
  }

  std::vector<RefTensor> arguments;

private:
  std::string element, body;
  std::vector<std::string> declarations, results;
  std::map<std::string, std::string> types;
  int count = 0;
};

RefTensor same(const RefTensor &x) { return x; }

Plan skip(std::string why) {
  Plan plan;
  plan.skip = std::move(why);
  return plan;
}

Plan planOf(const FuncText &f, std::vector<Check> checks) {
  Plan plan;
  plan.mlir = f.text();
  plan.arguments = f.arguments;
  plan.checks = std::move(checks);
  return plan;
}

bool allZero(const OnnxTensor *t) {
  return !t || std::all_of(t->data.begin(), t->data.end(), [](double v) { return v == 0; });
}

//===--- Mapping rules, one per ONNX op ---===//

Plan mapUnary(const OnnxCase &c, const std::string &mnemonic) {
  const OnnxTensor &x = *c.input(0);
  if (x.shape.empty())
    return skip("scalar input: dl tensors are batched (rank >= 1)");
  FuncText f(elementType(x));
  std::string attrs =
      c.opType == "LeakyRelu" ? "negative_slope = " + f64(c.floatAttr("alpha", 0.01)) : "";
  f.result(f.op(mnemonic, {f.arg(x.ref())}, attrs, x.shape));
  return planOf(f, {{0, same}});
}

/// The softmax axis of a case, or a skip reason.
std::string softmaxAxis(const OnnxCase &c, int64_t &axis) {
  int64_t rank = int64_t(c.input(0)->shape.size());
  if (rank == 0)
    return "scalar input: dl tensors are batched (rank >= 1)";
  axis = c.intAttr("axis", c.opset < 13 ? 1 : -1);
  int64_t normalized = axis < 0 ? axis + rank : axis;
  if (c.opset < 13 && normalized != rank - 1)
    return "opset < 13 semantics (flatten to 2-D at axis) differ from one-axis softmax unless "
           "axis is the last";
  return "";
}

Plan mapSoftmax(const OnnxCase &c) {
  int64_t axis;
  std::string why = softmaxAxis(c, axis);
  if (!why.empty())
    return skip(why);
  const OnnxTensor &x = *c.input(0);
  FuncText f(elementType(x));
  f.result(f.op("dl.softmax", {f.arg(x.ref())}, "axis = " + std::to_string(axis) + " : i64",
                x.shape));
  return planOf(f, {{0, same}});
}

/// No dl op: compares the evaluator's logSoftmax kernel directly.
Plan mapLogSoftmax(const OnnxCase &c) {
  int64_t axis;
  std::string why = softmaxAxis(c, axis);
  if (!why.empty())
    return skip(why);
  Plan plan;
  RefTensor x = c.input(0)->ref();
  plan.direct = [x, axis] { return std::vector<RefTensor>{dlc::ref::logSoftmax(x, axis)}; };
  plan.checks = {{0, same}};
  return plan;
}

Plan mapAdd(const OnnxCase &c) {
  const OnnxTensor &a = *c.input(0), &b = *c.input(1);
  if (a.shape != b.shape)
    return skip("broadcasting: dl.add has Keras Add semantics (inputs of one shape)");
  if (a.shape.empty())
    return skip("scalar input: dl tensors are batched (rank >= 1)");
  FuncText f(elementType(a));
  std::string x = f.arg(a.ref()), y = f.arg(b.ref());
  f.result(f.op("dl.add", {x, y}, "", a.shape));
  return planOf(f, {{0, same}});
}

/// dl's padding (valid or TF same) for an ONNX conv/pool, or why there is none.
std::string choosePadding(const OnnxCase &c, const std::vector<int64_t> &input,
                          const std::vector<int64_t> &window, const std::vector<int64_t> &strides,
                          const std::vector<int64_t> &dilations, bool &same) {
  int64_t total[2];
  for (int i = 0; i < 2; ++i) {
    int64_t effective = (window[i] - 1) * dilations[i] + 1;
    int64_t out = (input[i] + strides[i] - 1) / strides[i];
    total[i] = std::max<int64_t>((out - 1) * strides[i] + effective - input[i], 0);
  }
  std::string autoPad = c.stringAttr("auto_pad", "NOTSET");
  same = autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER";
  if (autoPad == "VALID" || autoPad == "SAME_UPPER")
    return "";
  if (autoPad == "SAME_LOWER")
    return total[0] % 2 == 0 && total[1] % 2 == 0
               ? ""
               : "auto_pad SAME_LOWER with odd total padding puts the extra element first (dl, "
                 "like TF, puts it last)";
  if (autoPad != "NOTSET")
    return "auto_pad " + autoPad;
  std::vector<int64_t> pads = c.intsAttr("pads", {0, 0, 0, 0});
  if (std::all_of(pads.begin(), pads.end(), [](int64_t p) { return p == 0; }))
    return "";
  same = true;
  for (int i = 0; i < 2; ++i)
    if (pads[i] != total[i] / 2 || pads[i + 2] != total[i] - total[i] / 2)
      return "asymmetric/explicit padding dl does not express";
  return "";
}

std::string paddingAttr(bool same) {
  return std::string("padding = #dl<padding ") + (same ? "same" : "valid") + ">";
}

Plan mapConv(const OnnxCase &c) {
  const OnnxTensor &x = *c.input(0), &w = *c.input(1), *b = c.input(2);
  if (x.shape.size() != 4)
    return skip("only 2-D convolution (dl.conv2d)");
  if (c.intAttr("group", 1) != 1)
    return skip("grouped convolution (group != 1)");
  std::vector<int64_t> strides = c.intsAttr("strides", {1, 1});
  std::vector<int64_t> dilations = c.intsAttr("dilations", {1, 1});
  std::vector<int64_t> window{w.shape[2], w.shape[3]};
  bool same;
  std::string why = choosePadding(c, {x.shape[2], x.shape[3]}, window, strides, dilations, same);
  if (!why.empty())
    return skip(why);
  FuncText f(elementType(x));
  std::vector<std::string> operands{f.arg(transpose(x.ref(), kToNHWC)),
                                    f.arg(transpose(w.ref(), kOIHWToHWIO))};
  if (b)
    operands.push_back(f.arg(b->ref()));
  std::string attrs = pairAttr("dilation", dilations[0], dilations[1]) + ", " +
                      paddingAttr(same) + ", " + pairAttr("strides", strides[0], strides[1]);
  f.result(f.op("dl.conv2d", operands, attrs, permuted(c.output(0)->shape, kToNHWC)));
  return planOf(f, {{0, [](const RefTensor &y) { return transpose(y, kToNCHW); }}});
}

Plan mapPool(const OnnxCase &c, const std::string &mnemonic) {
  const OnnxTensor &x = *c.input(0);
  if (x.shape.size() != 4)
    return skip("1-D/3-D pooling: dl pools are 2-D");
  if (c.intAttr("ceil_mode", 0))
    return skip("ceil_mode = 1");
  std::vector<int64_t> dilations = c.intsAttr("dilations", {1, 1});
  if (dilations != std::vector<int64_t>{1, 1})
    return skip("dilations != 1: dl pools have none");
  if (c.intAttr("storage_order", 0))
    return skip("storage_order = 1 (column-major indices output)");
  if (c.output(1))
    return skip("a second (indices) output");
  if (c.opType == "AveragePool" && c.intAttr("count_include_pad", 0))
    return skip("count_include_pad = 1: dl averages real elements only");
  std::vector<int64_t> window = c.intsAttr("kernel_shape", {});
  std::vector<int64_t> strides = c.intsAttr("strides", {1, 1});
  bool same;
  std::string why = choosePadding(c, {x.shape[2], x.shape[3]}, window, strides, dilations, same);
  if (!why.empty())
    return skip(why);
  FuncText f(elementType(x));
  std::string attrs = paddingAttr(same) + ", " + pairAttr("pool_size", window[0], window[1]) +
                      ", " + pairAttr("strides", strides[0], strides[1]);
  f.result(f.op(mnemonic, {f.arg(transpose(x.ref(), kToNHWC))}, attrs,
                permuted(c.output(0)->shape, kToNHWC)));
  return planOf(f, {{0, [](const RefTensor &y) { return transpose(y, kToNCHW); }}});
}

Plan mapGlobalPool(const OnnxCase &c, const std::string &mnemonic) {
  const OnnxTensor &x = *c.input(0);
  if (x.shape.size() != 4)
    return skip("only 2-D global pooling");
  FuncText f(elementType(x));
  int64_t n = x.shape[0], channels = x.shape[1];
  f.result(f.op(mnemonic, {f.arg(transpose(x.ref(), kToNHWC))}, "", {n, channels}));
  return planOf(f, {{0, [=](const RefTensor &y) { return reshaped(y, {n, channels, 1, 1}); }}});
}

Plan mapBatchNorm(const OnnxCase &c) {
  if (c.intAttr("training_mode", 0) || c.output(1) || c.output(2))
    return skip("training mode: batch statistics outputs are checked by autodiff tests");
  if (c.intAttr("spatial", 1) == 0)
    return skip("spatial = 0 (per-element statistics)");
  const OnnxTensor &x = *c.input(0);
  if (x.shape.size() < 2)
    return skip("input of rank < 2 has no channel axis");
  FuncText f(elementType(x));
  std::vector<std::string> operands;
  for (size_t i = 0; i < 5; ++i)
    operands.push_back(f.arg(c.input(i)->ref()));
  std::string attrs = "axis = 1 : i64, epsilon = " + f64(c.floatAttr("epsilon", 1e-5)) +
                      ", momentum = " + f64(0.99) +
                      ", operandSegmentSizes = array<i32: 1, 1, 1, 1, 1>";
  f.result(f.op("dl.batch_norm", operands, attrs, x.shape));
  return planOf(f, {{0, same}});
}

Plan mapFlatten(const OnnxCase &c) {
  const OnnxTensor &x = *c.input(0);
  int64_t rank = int64_t(x.shape.size());
  int64_t axis = c.intAttr("axis", 1);
  if ((axis < 0 ? axis + rank : axis) != 1)
    return skip("Flatten axis != 1: dl.flatten keeps exactly the batch axis");
  FuncText f(elementType(x));
  f.result(f.op("dl.flatten", {f.arg(x.ref())}, "", c.output(0)->shape));
  return planOf(f, {{0, same}});
}

Plan mapReshape(const OnnxCase &c) {
  const OnnxTensor &x = *c.input(0), &target = *c.input(1);
  const std::vector<int64_t> &out = c.output(0)->shape;
  if (x.shape.empty())
    return skip("scalar input: dl tensors are batched (rank >= 1)");
  bool allowZero = c.intAttr("allowzero", 0);
  if (allowZero && std::count(target.data.begin(), target.data.end(), 0.0))
    return skip("allowzero = 1 with a 0 in the target (a literal empty dimension)");
  if (out.empty() || out[0] != x.shape[0])
    return skip("the target shape changes dim 0 (the batch)");
  if (target.data.size() < 2)
    return skip("a rank-1 target leaves dl.reshape no dimensions to set");
  std::string dims;
  for (size_t i = 1; i < target.data.size(); ++i) {
    int64_t dim = int64_t(target.data[i]);
    if (dim == 0) {
      if (i >= x.shape.size())
        return skip("a 0 (copy) past the input's rank");
      dim = x.shape[i];
    }
    dims += (i > 1 ? ", " : "") + std::to_string(dim);
  }
  FuncText f(elementType(x));
  f.result(f.op("dl.reshape", {f.arg(x.ref())}, "shape = array<i64: " + dims + ">", out));
  return planOf(f, {{0, same}});
}

Plan mapConcat(const OnnxCase &c) {
  std::vector<const OnnxTensor *> inputs;
  for (size_t i = 0; i < c.inputs.size(); ++i)
    if (c.input(i))
      inputs.push_back(c.input(i));
  if (inputs.size() < 2)
    return skip("a single input: dl.concat joins two or more");
  int64_t rank = int64_t(inputs[0]->shape.size());
  if (rank == 0)
    return skip("scalar inputs: dl tensors are batched (rank >= 1)");
  int64_t axis = c.intAttr("axis", 0);
  if ((axis < 0 ? axis + rank : axis) == 0)
    return skip("axis 0 is the batch axis: dl never concatenates along it");
  FuncText f(elementType(*inputs[0]));
  std::vector<std::string> operands;
  for (const OnnxTensor *input : inputs)
    operands.push_back(f.arg(input->ref()));
  f.result(f.op("dl.concat", operands, "axis = " + std::to_string(axis) + " : i64",
                c.output(0)->shape));
  return planOf(f, {{0, same}});
}

Plan mapGemm(const OnnxCase &c) {
  if (c.intAttr("transA", 0))
    return skip("transA = 1: dl.dense multiplies the input as it is");
  if (c.floatAttr("alpha", 1.0) != 1.0 || c.floatAttr("beta", 1.0) != 1.0)
    return skip("alpha or beta != 1: dl.dense has no scaling");
  const OnnxTensor &a = *c.input(0), &b = *c.input(1), *bias = c.input(2);
  RefTensor kernel = c.intAttr("transB", 0) ? transpose(b.ref(), {1, 0}) : b.ref();
  int64_t units = kernel.dim(1);
  if (bias && bias->shape != std::vector<int64_t>{units} &&
      bias->shape != std::vector<int64_t>{1, units})
    return skip("C of shape " + shapeText(bias->shape) + ": a dl.dense bias is [units] or absent");
  FuncText f(elementType(a));
  std::vector<std::string> operands{f.arg(a.ref()), f.arg(kernel)};
  if (bias)
    operands.push_back(f.arg(reshaped(bias->ref(), {units})));
  f.result(f.op("dl.dense", operands, "", c.output(0)->shape));
  return planOf(f, {{0, same}});
}

Plan mapMatMul(const OnnxCase &c) {
  const OnnxTensor &a = *c.input(0), &b = *c.input(1);
  if (a.shape.size() != 2 || b.shape.size() != 2)
    return skip("MatMul beyond 2-D x 2-D (batched, broadcast or vector operands)");
  FuncText f(elementType(a));
  std::string x = f.arg(a.ref()), kernel = f.arg(b.ref());
  f.result(f.op("dl.dense", {x, kernel}, "", c.output(0)->shape));
  return planOf(f, {{0, same}});
}

/// Gather along axis 0 is an embedding lookup; trailing data dimensions are
/// folded into the row width ([V, d1, ..., dk] -> table [V, d1·...·dk]) and
/// unfolded from the result.
Plan mapGather(const OnnxCase &c) {
  const OnnxTensor &data = *c.input(0), &indices = *c.input(1);
  int64_t rank = int64_t(data.shape.size());
  int64_t axis = c.intAttr("axis", 0);
  if ((axis < 0 ? axis + rank : axis) != 0)
    return skip("axis != 0: dl.embedding looks up rows");
  if (indices.shape.empty())
    return skip("scalar indices: dl ids are batched (rank >= 1)");
  if (std::any_of(indices.data.begin(), indices.data.end(), [](double v) { return v < 0; }))
    return skip("negative indices (ONNX counts them from the end; dl.embedding rejects them)");
  int64_t width = 1;
  for (int64_t i = 1; i < rank; ++i)
    width *= data.shape[i];
  FuncText f(elementType(data));
  std::string ids = f.arg(indices.ref(), elementType(indices));
  std::string table = f.arg(reshaped(data.ref(), {data.shape[0], width}));
  std::vector<int64_t> shape = indices.shape;
  shape.push_back(width);
  f.result(f.op("dl.embedding", {ids, table}, "", shape));
  std::vector<int64_t> out = c.output(0)->shape;
  return planOf(f, {{0, [out](const RefTensor &y) { return reshaped(y, out); }}});
}

Plan mapLSTM(const OnnxCase &c) {
  const OnnxTensor &x = *c.input(0), &w = *c.input(1), &r = *c.input(2);
  const OnnxTensor *b = c.input(3), *lengths = c.input(4);
  std::string direction = c.stringAttr("direction", "forward");
  if (direction != "forward")
    return skip("direction " + direction + ": dl.lstm runs forward");
  if (c.input(7))
    return skip("peepholes (P): Keras' LSTM has none");
  if (c.has("clip"))
    return skip("clip: dl.lstm does not clip");
  if (c.intAttr("input_forget", 0))
    return skip("input_forget = 1 (coupled input and forget gates)");
  if (c.has("activations") &&
      c.stringsAttr("activations") != std::vector<std::string>{"Sigmoid", "Tanh", "Tanh"})
    return skip("non-default activations");
  if (c.has("activation_alpha") || c.has("activation_beta"))
    return skip("activation_alpha/activation_beta");
  int64_t layout = c.intAttr("layout", 0);
  if (layout != 0 && layout != 1)
    return skip("layout " + std::to_string(layout));
  if (!allZero(c.input(5)) || !allZero(c.input(6)))
    return skip("non-zero initial_h/initial_c: dl.lstm starts from zero states");
  if (c.output(2))
    return skip("Y_c (the last cell state) is not a dl.lstm result");
  int64_t steps = x.shape[layout ? 1 : 0], n = x.shape[layout ? 0 : 1], features = x.shape[2];
  int64_t units = c.intAttr("hidden_size", r.shape[2]), gates = 4 * units;
  if (lengths && std::any_of(lengths->data.begin(), lengths->data.end(),
                             [&](double v) { return int64_t(v) != steps; }))
    return skip("sequence_lens shorter than the sequence: dl.lstm has no masking");
  const OnnxTensor *sequence = c.output(0), *last = c.output(1);
  if (!sequence && !last)
    return skip("neither Y nor Y_h is requested");

  // Keras gate g (i, f, c, o) is ONNX gate kOnnxGate[g] (ONNX order: i, o, f, c).
  const int64_t kOnnxGate[4] = {0, 2, 3, 1};
  RefTensor kernel({features, gates}), recurrent({units, gates}), bias({gates});
  for (int64_t g = 0; g < 4; ++g)
    for (int64_t u = 0; u < units; ++u) {
      int64_t row = kOnnxGate[g] * units + u, column = g * units + u;
      for (int64_t i = 0; i < features; ++i)
        kernel[i * gates + column] = w.data[row * features + i];
      for (int64_t v = 0; v < units; ++v)
        recurrent[v * gates + column] = r.data[row * units + v];
      if (b)
        bias[column] = b->data[row] + b->data[gates + row];
    }

  FuncText f(elementType(x));
  std::vector<std::string> operands{
      f.arg(layout ? x.ref() : transpose(x.ref(), {1, 0, 2})), f.arg(kernel), f.arg(recurrent)};
  if (b)
    operands.push_back(f.arg(bias));
  std::vector<Check> checks;
  if (last) {
    f.result(f.op("dl.lstm", operands, "", {n, units}));
    std::vector<int64_t> shape = layout ? std::vector<int64_t>{n, 1, units}
                                        : std::vector<int64_t>{1, n, units};
    checks.push_back({1, [shape](const RefTensor &y) { return reshaped(y, shape); }});
  }
  if (sequence) {
    f.result(f.op("dl.lstm", operands, "return_sequences", {n, steps, units}));
    checks.push_back({0, [=](const RefTensor &y) {
                        return layout ? reshaped(y, {n, steps, 1, units})
                                      : reshaped(transpose(y, {1, 0, 2}), {steps, 1, n, units});
                      }});
  }
  return planOf(f, checks);
}

Plan mapDropout(const OnnxCase &c) {
  double rate = 0.5;
  if (c.opset < 12) {
    rate = c.floatAttr("ratio", 0.5);
    if (c.opset < 7 && c.intAttr("is_test", 0) == 0)
      return skip("random masks: dlc's counter-based RNG is not ONNX's");
  } else {
    if (const OnnxTensor *ratio = c.input(1))
      rate = ratio->data[0];
    if (const OnnxTensor *training = c.input(2); training && training->data[0] != 0)
      return skip("random masks: dlc's counter-based RNG is not ONNX's");
  }
  if (!(rate >= 0 && rate < 1))
    return skip("ratio outside [0, 1)");
  const OnnxTensor &x = *c.input(0);
  if (x.shape.empty())
    return skip("scalar input: dl tensors are batched (rank >= 1)");
  FuncText f(elementType(x));
  std::string attrs = "rate = " + f64(rate);
  if (c.has("seed"))
    attrs += ", seed = " + std::to_string(c.intAttr("seed", 0)) + " : i64";
  f.result(f.op("dl.dropout", {f.arg(x.ref())}, attrs, x.shape));
  Plan plan = planOf(f, {{0, same}});
  // Inference keeps every element: the mask is all true.
  if (const OnnxTensor *mask = c.output(1))
    plan.constants.push_back({1, RefTensor(mask->shape, 1.0)});
  return plan;
}

} // namespace

Plan mapCase(const OnnxCase &c) {
  const std::string &op = c.opType;
  for (const OnnxTensor &t : c.inputs)
    if (t.present && t.dtype != "float32" && t.dtype != "float16" && !t.isInteger() &&
        t.dtype != "bool")
      return skip("dtype " + t.dtype);
  if (op == "Relu")
    return mapUnary(c, "dl.relu");
  if (op == "Sigmoid")
    return mapUnary(c, "dl.sigmoid");
  if (op == "Tanh")
    return mapUnary(c, "dl.tanh");
  if (op == "LeakyRelu")
    return mapUnary(c, "dl.leaky_relu");
  if (op == "Softmax")
    return mapSoftmax(c);
  if (op == "LogSoftmax")
    return mapLogSoftmax(c);
  if (op == "Add")
    return mapAdd(c);
  if (op == "Conv")
    return mapConv(c);
  if (op == "MaxPool")
    return mapPool(c, "dl.max_pool2d");
  if (op == "AveragePool")
    return mapPool(c, "dl.avg_pool2d");
  if (op == "GlobalAveragePool")
    return mapGlobalPool(c, "dl.global_avg_pool2d");
  if (op == "GlobalMaxPool")
    return mapGlobalPool(c, "dl.global_max_pool2d");
  if (op == "BatchNormalization")
    return mapBatchNorm(c);
  if (op == "Flatten")
    return mapFlatten(c);
  if (op == "Reshape")
    return mapReshape(c);
  if (op == "Concat")
    return mapConcat(c);
  if (op == "Gemm")
    return mapGemm(c);
  if (op == "MatMul")
    return mapMatMul(c);
  if (op == "Gather")
    return mapGather(c);
  if (op == "LSTM")
    return mapLSTM(c);
  if (op == "Dropout")
    return mapDropout(c);
  if (op.find("Loss") != std::string::npos)
    return skip("loss ops arrive with autodiff");
  return skip("no dl op");
}

} // namespace dlc::conformance
