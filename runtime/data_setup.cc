//===- data_setup.cc - What a bundle and the command line say about data --===//
#include "runtime/data_setup.h"
#include "runtime/float16.h"
#include "runtime/train_setup.h"
#include "runtime/data/batch.h"
#include "runtime/data/source.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>

namespace dlc::rt {
namespace {

using json = nlohmann::json;

Status bad(const std::string &message) {
  return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, message);
}

} // namespace

Status toOptions(const json &options, data::Options *out) {
  for (auto it = options.begin(); it != options.end(); ++it) {
    const json &v = it.value();
    if (v.is_number() || v.is_boolean())
      (*out)[it.key()] = v.is_boolean() ? double(v.get<bool>()) : v.get<double>();
    else if (v.is_string())
      (*out)[it.key()] = v.get<std::string>();
    else if (v.is_array()) {
      std::vector<double> list;
      for (const json &e : v)
        if (e.is_number())
          list.push_back(e.get<double>());
      (*out)[it.key()] = list;
    }
  }
  return okStatus();
}

Status parseDataSpec(const std::string &spec, std::string *kind, data::Options *options) {
  size_t colon = spec.find(':');
  *kind = spec.substr(0, colon);
  if (kind->empty())
    return bad("--data '" + spec + "': expected KIND or KIND:key=value,...");
  if (colon == std::string::npos)
    return okStatus();
  std::string rest = spec.substr(colon + 1);
  size_t start = 0;
  while (start <= rest.size()) {
    size_t comma = rest.find(',', start);
    std::string item = rest.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0)
      return bad("--data '" + spec + "': '" + item + "' is not key=value");
    std::string key = item.substr(0, eq), value = item.substr(eq + 1);
    char *end = nullptr;
    double number = std::strtod(value.c_str(), &end);
    if (!value.empty() && end && *end == '\0')
      (*options)[key] = number;
    else
      (*options)[key] = value;
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  return okStatus();
}

Status dataTransformsOf(const json &setup, std::vector<data::TransformSpec> *out) {
  out->clear();
  for (const json &s : setup.value("data_transforms", json::array())) {
    data::TransformSpec spec{s["kind"].get<std::string>(), {}};
    DLC_RETURN_IF_ERROR(toOptions(s["options"], &spec.options), "");
    out->push_back(std::move(spec));
  }
  return okStatus();
}

Status inferencePipeline(const Bundle &bundle, const std::vector<int64_t> &exampleShape,
                         data::Pipeline *out) {
  std::vector<data::TransformSpec> steps;
  if (bundle.root().train_setup()) {
    try {
      json setup;
      DLC_RETURN_IF_ERROR(parseTrainSetup(bundle.root().train_setup()->str(), &setup),
                          bundle.origin());
      DLC_RETURN_IF_ERROR(dataTransformsOf(setup, &steps), "");
    } catch (const std::exception &e) {
      return DLC_MAKE_STATUS(StatusCode::kDataLoss,
                             bundle.origin() + ": unreadable training setup: " + e.what());
    }
  }
  return data::Pipeline::create(steps, exampleShape, DType::kF32, out);
}

Status readExamplesToPredict(const Bundle &bundle, const std::vector<TensorSpec> &inputs,
                             const std::string &input, std::vector<std::vector<float>> *values,
                             int64_t *count) {
  static const char *kKinds[] = {"fashion_mnist", "idx", "text", "npy", "npz", "safetensors", "csv",
                                 "image_folder"};
  std::string kind;
  data::Options options;
  const size_t colon = input.find(':');
  const bool spec = colon != std::string::npos &&
                    std::find(std::begin(kKinds), std::end(kKinds), input.substr(0, colon)) != std::end(kKinds);
  if (spec) {
    DLC_RETURN_IF_ERROR(parseDataSpec(input, &kind, &options), "");
  } else {
    auto endsWith = [&](const char *suffix) {
      const size_t n = std::strlen(suffix);
      return input.size() > n && input.compare(input.size() - n, n, suffix) == 0;
    };
    if (endsWith(".npz"))
      kind = "npz", options["train"] = input;
    else if (endsWith(".npy"))
      kind = "npy", options["x"] = input;
    else if (endsWith(".csv"))
      kind = "csv", options["train"] = input;
    else if (endsWith(".safetensors"))
      kind = "safetensors", options["train"] = input;
    else
      kind = "idx", options["train_images"] = input;
  }
  data::ModelSignature model;
  model.targets = false;
  for (const TensorSpec &s : inputs)
    model.inputs.push_back({s.name, s.dtype, std::vector<int64_t>(s.shape.begin() + 1, s.shape.end())});
  data::Source source;
  DLC_RETURN_IF_ERROR(data::openSource(kind, options, model, &source), "");
  const data::Dataset &examples = *source.train;
  const std::vector<data::Field> &fields = examples.inputs();
  if (fields.size() != inputs.size())
    return bad(input + ": gives " + std::to_string(fields.size()) + " inputs, the model takes " +
               std::to_string(inputs.size()));
  const int64_t n = examples.size();
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    order[size_t(i)] = i;
  std::vector<std::vector<float>> raw(fields.size());
  std::vector<TensorView> views;
  std::vector<std::vector<int32_t>> ids(fields.size());
  for (size_t i = 0; i < fields.size(); ++i) {
    std::vector<int64_t> shape = {n};
    shape.insert(shape.end(), fields[i].shape.begin(), fields[i].shape.end());
    if (isFloatDType(inputs[i].dtype)) {
      raw[i].resize(size_t(numElements(shape)));
      views.push_back({raw[i].data(), DType::kF32, shape});
    } else {
      ids[i].resize(size_t(numElements(shape)));
      views.push_back({ids[i].data(), DType::kI32, shape});
    }
  }
  // The source's placeholder targets (one per model output), not read.
  std::vector<int32_t> placeholder(static_cast<size_t>(n));
  const std::vector<TensorView> targets(examples.targets().size(), {placeholder.data(), DType::kI32, {n}});
  DLC_RETURN_IF_ERROR(examples.gather(order.data(), n, views, targets), input);
  values->assign(fields.size(), {});
  for (size_t i = 0; i < fields.size(); ++i) {
    const std::vector<int64_t> want(inputs[i].shape.begin() + 1, inputs[i].shape.end());
    std::vector<int64_t> have = fields[i].shape;
    const std::string what = input + ": input '" + inputs[i].name + "'";
    if (!isFloatDType(inputs[i].dtype)) {
      if (!data::sameUpToUnitAxes(have, want))
        return bad(what + " holds examples of " + shapeString(have) + ", the model takes " + shapeString(want));
      (*values)[i].assign(ids[i].begin(), ids[i].end());
      continue;
    }
    data::Pipeline pipeline;
    if (i == 0) { // the data transforms apply to the first input, as in training
      if (have.size() == 2 && want.size() == 3)
        have.push_back(1); // grey images [H, W] as [H, W, 1]
      DLC_RETURN_IF_ERROR(inferencePipeline(bundle, have, &pipeline), what);
    }
    if (pipeline.empty()) {
      if (!data::sameUpToUnitAxes(have, want))
        return bad(what + " holds examples of " + shapeString(have) + ", the model takes " + shapeString(want));
      (*values)[i] = std::move(raw[i]);
      continue;
    }
    if (!data::sameUpToUnitAxes(pipeline.outputShape(), want))
      return bad(what + ": examples of " + shapeString(have) + " become " +
                 shapeString(pipeline.outputShape()) + " after the data transforms, the model takes " +
                 shapeString(want));
    const int64_t in = numElements(have), out = numElements(want);
    (*values)[i].resize(size_t(n * out));
    std::vector<float> scratch(size_t(pipeline.scratchElements() + 1));
    for (int64_t e = 0; e < n; ++e)
      pipeline.apply(raw[i].data() + e * in, (*values)[i].data() + e * out, false, data::AugmentKey{},
                     scratch.data());
  }
  *count = n;
  return okStatus();
}

} // namespace dlc::rt
