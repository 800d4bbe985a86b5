//===- data_setup.h - What a bundle and the command line say about data ---===//
//
// The data a bundle trains and predicts from, as the training setup's JSON
// and the command line spell it: data source options, `--data
// KIND:key=value,...`, the data section's transforms, and the examples
// `dlc run --input` predicts from.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/bundle.h"
#include "runtime/data/options.h"
#include "runtime/data/transforms.h"
#include "runtime/session.h"

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

namespace dlc::rt {

/// A data source's or transform's options in the training setup's JSON.
Status toOptions(const nlohmann::json &options, data::Options *out);

/// `--data`: "kind" or "kind:key=value,key=value" (values are numbers or text).
Status parseDataSpec(const std::string &spec, std::string *kind, data::Options *options);

/// The data section's transforms of a (schema-checked) training setup.
Status dataTransformsOf(const nlohmann::json &setup, std::vector<data::TransformSpec> *out);

/// The bundle's data transforms (rescale, normalize, resize...) for raw examples
/// of |exampleShape| (f32), as inference applies them.
Status inferencePipeline(const Bundle &bundle, const std::vector<int64_t> &exampleShape,
                         data::Pipeline *out);

/// The examples `dlc run --input` predicts from: |input| is a data source as
/// --data takes it (KIND:key=value,...) or a file whose extension says the
/// kind (.npz, .npy, .csv, .safetensors; anything else IDX images), read
/// without targets (data::ModelSignature::targets). One vector per model
/// input (|inputs|: the infer program's), |*count| examples each, values as
/// floats (ids exactly, up to 2^24); the first input went through the
/// bundle's data transforms as in evaluation.
Status readExamplesToPredict(const Bundle &bundle, const std::vector<TensorSpec> &inputs,
                             const std::string &input, std::vector<std::vector<float>> *values,
                             int64_t *count);

} // namespace dlc::rt
