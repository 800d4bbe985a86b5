//===- source.cc - Opening a data section's source and splitting it ------===//
#include "runtime/data/source.h"

#include "runtime/data/csv.h"
#include "runtime/data/idx.h"
#include "runtime/data/image.h"
#include "runtime/data/npy.h"
#include "runtime/data/text.h"
#include "runtime/safetensors.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include <sys/stat.h>

namespace dlc::rt::data {
namespace {

/// "a, b, c", for messages.
std::string joined(const std::vector<std::string> &names) {
  std::string text;
  for (const std::string &name : names)
    text += (text.empty() ? "" : ", ") + name;
  return text;
}

std::string summarize(const std::string &kind, const Source &s) {
  std::string text = kind + ": " + std::to_string(s.train->size()) + " train";
  if (s.test)
    text += ", " + std::to_string(s.test->size()) + " test";
  text += " examples of ";
  const std::vector<Field> &inputs = s.train->inputs();
  for (size_t i = 0; i < inputs.size(); ++i)
    text += (i ? ", " : "") + (inputs[i].name.empty() ? "" : inputs[i].name + " ") +
            dtypeName(inputs[i].dtype) + " " + shapeString(inputs[i].shape);
  const std::vector<Field> &targets = s.train->targets();
  auto classIds = [&](size_t t) { return s.train->numClasses(t) > 0 && targets[t].shape.empty(); };
  auto describe = [&](size_t t) {
    return classIds(t) ? std::to_string(s.train->numClasses(t)) + " classes"
                       : dtypeName(targets[t].dtype) + (" " + shapeString(targets[t].shape));
  };
  if (targets.size() == 1)
    return text + (classIds(0) ? ", " : "; targets ") + describe(0);
  text += "; targets";
  for (size_t t = 0; t < targets.size(); ++t)
    text += (t ? ", " : " ") + targets[t].name + " " + describe(t);
  return text;
}

/// An IDX array as a HostArray; grey images [N, H, W] get the channel axis
/// of NHWC (MNIST's convention).
HostArray fromIdx(IdxArray idx, bool images) {
  static const struct {
    IdxType idx;
    DType dtype;
  } kTypes[] = {{IdxType::kU8, DType::kU8},   {IdxType::kI8, DType::kI8},
                {IdxType::kI16, DType::kI16}, {IdxType::kI32, DType::kI32},
                {IdxType::kF32, DType::kF32}, {IdxType::kF64, DType::kF64}};
  DType dtype = DType::kU8;
  for (const auto &t : kTypes)
    if (t.idx == idx.type)
      dtype = t.dtype;
  std::vector<int64_t> dims = idx.dims;
  if (images && dims.size() == 3)
    dims.push_back(1);
  return HostArray::owning(dtype, std::move(dims), std::move(idx.data));
}

bool exists(const std::string &path) {
  struct stat info;
  return ::stat(path.c_str(), &info) == 0;
}

/// Fashion-MNIST ships gzipped; an unpacked copy (name without .gz) works too.
Status readFashionFile(const std::string &dir, const std::string &base, IdxArray *out) {
  std::string gz = dir + "/" + base + ".gz";
  std::string path = exists(gz) || !exists(dir + "/" + base) ? gz : dir + "/" + base;
  Status status = readIdx(path, out);
  if (status.code() == StatusCode::kNotFound)
    return DLC_MAKE_STATUS(StatusCode::kNotFound,
                           path + ": not found (install Debian's dataset-fashion-mnist "
                                  "package, or pass fashion_mnist(path=...) the directory "
                                  "holding the four IDX files)");
  return status;
}

/// The targets of examples read only to predict: one zero per example for
/// each model output.
std::vector<ArrayDataset::Input> placeholderTargets(int64_t examples, const ModelSignature &model) {
  std::vector<ArrayDataset::Input> targets;
  for (size_t t = 0; t < std::max<size_t>(model.outputs.size(), 1); ++t)
    targets.push_back({model.outputs.size() > 1 ? model.outputs[t] : "",
                       HostArray::owning(DType::kI32, {examples},
                                         std::vector<uint8_t>(size_t(examples) * 4, 0))});
  return targets;
}

/// The targets of a source that gives one array of them.
std::vector<ArrayDataset::Input> oneTarget(HostArray labels) {
  std::vector<ArrayDataset::Input> targets;
  targets.push_back({"", std::move(labels)});
  return targets;
}

/// |labels| empty (no dims): images only, to predict.
Status loadPair(const std::string &name, IdxArray images, IdxArray labels, int64_t classes,
                const ModelSignature &model, std::shared_ptr<const Dataset> *out) {
  if (images.dims.size() < 2 || images.dims.size() > 4)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           name + ": images must be [N, H, W], [N, H, W, C] or [N, D], got " +
                               shapeString(images.dims));
  if (labels.dims.empty()) {
    std::shared_ptr<ArrayDataset> ds;
    std::vector<ArrayDataset::Input> inputs;
    const int64_t n = images.dims[0];
    inputs.push_back({"", fromIdx(std::move(images), true)});
    DLC_RETURN_IF_ERROR(ArrayDataset::create(name, std::move(inputs), placeholderTargets(n, model), 0, &ds),
                        "");
    *out = std::move(ds);
    return okStatus();
  }
  if (labels.dims.size() != 1 || !idxTypeIsIntegral(labels.type))
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           name + ": labels must be a vector [N] of integers, got " +
                               idxTypeName(labels.type) + " " + shapeString(labels.dims));
  std::shared_ptr<ArrayDataset> ds;
  std::vector<ArrayDataset::Input> inputs;
  inputs.push_back({"", fromIdx(std::move(images), true)});
  DLC_RETURN_IF_ERROR(ArrayDataset::create(name, std::move(inputs), oneTarget(fromIdx(std::move(labels), false)),
                                           classes, &ds),
                      "");
  *out = std::move(ds);
  return okStatus();
}

Status openFashionMnist(OptionReader &opts, const ModelSignature &model, Source *out) {
  std::string dir;
  DLC_RETURN_IF_ERROR(opts.string("path", &dir, "/usr/share/datasets/fashion-mnist"), "");
  DLC_RETURN_IF_ERROR(opts.finish(), "");
  IdxArray files[4];
  const char *names[4] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                          "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
  for (int i = 0; i < 4; ++i)
    DLC_RETURN_IF_ERROR(readFashionFile(dir, names[i], &files[i]), "");
  DLC_RETURN_IF_ERROR(
      loadPair("Fashion-MNIST train", std::move(files[0]), std::move(files[1]), 10, model, &out->train),
      "");
  DLC_RETURN_IF_ERROR(
      loadPair("Fashion-MNIST test", std::move(files[2]), std::move(files[3]), 10, model, &out->test),
      "");
  return okStatus();
}

Status openIdx(OptionReader &opts, const ModelSignature &model, Source *out) {
  std::string paths[4];
  const char *keys[4] = {"train_images", "train_labels", "test_images", "test_labels"};
  for (int i = 0; i < 4; ++i)
    DLC_RETURN_IF_ERROR(opts.string(keys[i], &paths[i], i == 0 || (i == 1 && model.targets) ? nullptr : ""), "");
  if (!model.targets)
    paths[1] = paths[2] = paths[3] = ""; // images only
  DLC_RETURN_IF_ERROR(opts.finish(), "");
  if (paths[2].empty() != paths[3].empty())
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           "'idx' needs both test_images and test_labels, or neither");
  const int files = paths[2].empty() ? 2 : 4;
  IdxArray arrays[4];
  const int64_t classes = 0; // as the labels imply
  for (int i = 0; i < files; ++i)
    if (!paths[i].empty())
      DLC_RETURN_IF_ERROR(readIdx(paths[i], &arrays[i]), std::string("idx ") + keys[i]);
  DLC_RETURN_IF_ERROR(
      loadPair(paths[0], std::move(arrays[0]), std::move(arrays[1]), classes, model, &out->train), "");
  if (files == 4) {
    DLC_RETURN_IF_ERROR(
        loadPair(paths[2], std::move(arrays[2]), std::move(arrays[3]), classes, model, &out->test), "");
    if (out->test->inputs()[0].shape != out->train->inputs()[0].shape)
      return DLC_MAKE_STATUS(
          StatusCode::kInvalidArgument,
          paths[2] + ": test images are " + shapeString(out->test->inputs()[0].shape) +
              " but train images are " + shapeString(out->train->inputs()[0].shape));
  }
  return okStatus();
}

Status openText(OptionReader &opts, Source *out) {
  std::string path;
  int64_t vocab = 0, length = 0;
  DLC_RETURN_IF_ERROR(opts.string("path", &path), "");
  DLC_RETURN_IF_ERROR(opts.integer("vocab_size", 2, INT32_MAX, &vocab, 1000), "");
  DLC_RETURN_IF_ERROR(opts.integer("sequence_length", 1, 1000000, &length, 20), "");
  DLC_RETURN_IF_ERROR(opts.finish(), "");
  std::shared_ptr<TextDataset> ds;
  DLC_RETURN_IF_ERROR(TextDataset::open(path, vocab, length, &ds), "");
  const TextStats &st = ds->stats();
  char coverage[32];
  std::snprintf(coverage, sizeof coverage, "%.1f%%", 100.0 * st.coverage());
  out->train = ds;
  out->summary = "text " + path + ": " + std::to_string(st.files) + " files, " +
                 std::to_string(st.entries) + " entries, " + std::to_string(st.tokens) +
                 " words (" + std::to_string(st.distinctWords) + " distinct); the " +
                 std::to_string(ds->vocabulary().size()) + "-word vocabulary covers " + coverage +
                 "; " + std::to_string(ds->size()) + " windows of " + std::to_string(length) +
                 " tokens";
  return okStatus();
}


/// The names of |arrays|, for messages.
std::string arrayNames(const std::map<std::string, HostArray> &arrays) {
  std::vector<std::string> names;
  for (const auto &[name, array] : arrays)
    names.push_back(name);
  return joined(names);
}

/// The array for |input| among |arrays|: its name, or `x` (or `input`) for
/// a model's only input.
Status pickInput(const std::map<std::string, HostArray> &arrays, const Field &input, size_t inputs,
                 const std::string &file, HostArray *out) {
  auto it = arrays.find(input.name);
  if (it == arrays.end() && inputs == 1)
    it = arrays.find("x");
  if (it == arrays.end() && inputs == 1)
    it = arrays.find("input");
  if (it == arrays.end())
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           file + ": no array named '" + input.name + "'" +
                               (inputs == 1 ? " (or 'x', 'input')" : "") + " for the model's input '" +
                               input.name + "' (the file holds: " + arrayNames(arrays) + ")");
  *out = it->second;
  return okStatus();
}

/// The names of the arrays that hold targets: `labels` (or `y`) for a
/// one-output model, else each output's name.
std::vector<std::string> targetNames(const ModelSignature &model) {
  return model.outputs.size() > 1 ? model.outputs : std::vector<std::string>{"labels", "y"};
}

/// The targets among |arrays|: `labels` (or `y`) for a one-output model,
/// else one array per output, named after it (in the outputs' order).
Status pickTargets(const std::map<std::string, HostArray> &arrays, const ModelSignature &model,
                   const std::string &file, std::vector<ArrayDataset::Input> *out) {
  if (model.outputs.size() <= 1) {
    auto it = arrays.find("labels");
    if (it == arrays.end())
      it = arrays.find("y");
    if (it == arrays.end())
      return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                             file + ": no array named 'labels' or 'y' for the targets");
    *out = oneTarget(it->second);
    return okStatus();
  }
  for (const std::string &output : model.outputs) {
    auto it = arrays.find(output);
    if (it == arrays.end())
      return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                             file + ": no array named '" + output + "' for the targets of the model's output '" +
                                 output + "' (a model with " + std::to_string(model.outputs.size()) +
                                 " outputs takes one array of targets per output: " + joined(model.outputs) +
                                 "; the file holds: " + arrayNames(arrays) + ")");
    out->push_back({output, it->second});
  }
  return okStatus();
}

/// A split from named arrays (npz, safetensors): one per model input and the
/// targets; arrays the model does not use are an error (a misspelt name
/// must not be silently ignored).
Status namedSplit(const std::map<std::string, HostArray> &arrays, const ModelSignature &model,
                  const std::string &file, std::shared_ptr<const Dataset> *out) {
  std::vector<ArrayDataset::Input> inputs;
  std::set<std::string> used;
  for (const Field &input : model.inputs) {
    HostArray array;
    DLC_RETURN_IF_ERROR(pickInput(arrays, input, model.inputs.size(), file, &array), "");
    inputs.push_back({input.name, array});
    used.insert(arrays.count(input.name) ? input.name : arrays.count("x") ? "x" : "input");
  }
  std::vector<ArrayDataset::Input> targets;
  if (model.targets) {
    DLC_RETURN_IF_ERROR(pickTargets(arrays, model, file, &targets), "");
  } else {
    const HostArray &first = inputs.front().array;
    targets = placeholderTargets(first.dims.empty() ? 0 : first.dims[0], model);
  }
  const std::vector<std::string> targetArrays = targetNames(model);
  used.insert(targetArrays.begin(), targetArrays.end());
  for (const auto &[name, array] : arrays)
    if (!used.count(name) && model.targets) // to predict, only the inputs matter
      return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                             file + ": the array '" + name + "' is neither a model input nor " +
                                 (model.outputs.size() > 1 ? "a model output's targets (" + joined(targetArrays) + ")"
                                                           : "the targets ('labels' or 'y')"));
  std::shared_ptr<ArrayDataset> ds;
  DLC_RETURN_IF_ERROR(ArrayDataset::create(file, std::move(inputs), std::move(targets), 0, &ds), "");
  *out = std::move(ds);
  return okStatus();
}

Status readSafetensorsArrays(const std::string &path, std::map<std::string, HostArray> *out) {
  auto file = std::make_shared<SafetensorsFile>();
  DLC_RETURN_IF_ERROR(SafetensorsFile::open(path, file.get()), "");
  for (const SafetensorsTensor &t : file->tensors()) {
    HostArray a;
    a.dtype = t.dtype;
    a.dims = t.shape;
    a.data = t.data;
    a.bytes = t.nbytes;
    a.owner = file;
    (*out)[t.name] = std::move(a);
  }
  return okStatus();
}

/// npz and safetensors: the train file and an optional test file.
Status openNamed(OptionReader &opts, const ModelSignature &model,
                 Status (*read)(const std::string &, std::map<std::string, HostArray> *),
                 Source *out) {
  std::string train, test;
  DLC_RETURN_IF_ERROR(opts.string("train", &train), "");
  DLC_RETURN_IF_ERROR(opts.string("test", &test, ""), "");
  DLC_RETURN_IF_ERROR(opts.finish(), "");
  std::map<std::string, HostArray> arrays;
  DLC_RETURN_IF_ERROR(read(train, &arrays), "");
  DLC_RETURN_IF_ERROR(namedSplit(arrays, model, train, &out->train), "");
  if (!test.empty()) {
    std::map<std::string, HostArray> testArrays;
    DLC_RETURN_IF_ERROR(read(test, &testArrays), "");
    DLC_RETURN_IF_ERROR(namedSplit(testArrays, model, test, &out->test), "");
  }
  return okStatus();
}

Status openNpy(OptionReader &opts, const ModelSignature &model, Source *out) {
  std::string paths[4];
  const char *keys[4] = {"x", "y", "test_x", "test_y"};
  for (int i = 0; i < 4; ++i)
    DLC_RETURN_IF_ERROR(opts.string(keys[i], &paths[i], i == 0 || (i == 1 && model.targets) ? nullptr : ""), "");
  if (!model.targets)
    paths[1] = paths[2] = paths[3] = ""; // inputs only
  DLC_RETURN_IF_ERROR(opts.finish(), "");
  if (model.inputs.size() > 1)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           "'npy' holds one input but the model takes " +
                               std::to_string(model.inputs.size()) +
                               " (save the arrays with numpy.savez, named after the inputs, and "
                               "use npz)");
  if (paths[2].empty() != paths[3].empty())
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, "'npy' needs both test_x and test_y, or neither");
  for (int split = 0; split < (paths[2].empty() ? 1 : 2); ++split) {
    HostArray x, y;
    DLC_RETURN_IF_ERROR(readNpy(paths[2 * split], &x), "");
    std::vector<ArrayDataset::Input> targets;
    if (model.targets) {
      DLC_RETURN_IF_ERROR(readNpy(paths[2 * split + 1], &y), "");
      targets = oneTarget(std::move(y));
    } else {
      targets = placeholderTargets(x.dims.empty() ? 0 : x.dims[0], model);
    }
    std::shared_ptr<ArrayDataset> ds;
    std::vector<ArrayDataset::Input> inputs;
    inputs.push_back({model.inputs.empty() ? "" : model.inputs[0].name, std::move(x)});
    DLC_RETURN_IF_ERROR(ArrayDataset::create(paths[2 * split], std::move(inputs), std::move(targets), 0, &ds),
                        "");
    (split ? out->test : out->train) = std::move(ds);
  }
  return okStatus();
}

Status openCsv(OptionReader &opts, const ModelSignature &model, Source *out,
               std::string *classNote) {
  std::string train, test, label, columns, delimiter;
  double header = 1;
  DLC_RETURN_IF_ERROR(opts.string("train", &train), "");
  DLC_RETURN_IF_ERROR(opts.string("test", &test, ""), "");
  DLC_RETURN_IF_ERROR(opts.string("label", &label, model.targets ? nullptr : ""), "");
  DLC_RETURN_IF_ERROR(opts.string("columns", &columns, ""), "");
  DLC_RETURN_IF_ERROR(opts.number("header", &header, false), "");
  DLC_RETURN_IF_ERROR(opts.string("delimiter", &delimiter, ","), "");
  DLC_RETURN_IF_ERROR(opts.finish(), "");
  if (delimiter.size() != 1 || delimiter == "\"" || delimiter == "\n")
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           "csv's delimiter must be one character such as \",\", \";\" or \"\\t\"");
  if (model.inputs.size() > 1)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           "'csv' gives one input (the feature columns) but the model takes " +
                               std::to_string(model.inputs.size()));
  CsvOptions options;
  options.labels = splitList(label);
  options.columns = splitList(columns);
  options.header = header != 0;
  options.delimiter = delimiter[0];
  if (options.labels.empty() && model.targets)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, "csv needs label=\"column\" (the targets)");
  if (!model.targets)
    test.clear();
  std::vector<std::string> classNames;
  for (int split = 0; split < (test.empty() ? 1 : 2); ++split) {
    const std::string &path = split ? test : train;
    CsvTable table;
    DLC_RETURN_IF_ERROR(readCsv(path, options, split ? &classNames : nullptr, &table), "");
    if (split == 0)
      classNames = table.classNames;
    std::shared_ptr<ArrayDataset> ds;
    std::vector<ArrayDataset::Input> inputs;
    inputs.push_back({model.inputs.empty() ? "" : model.inputs[0].name, table.features});
    // To predict, label columns given are left out of the features, not
    // read as targets.
    std::vector<ArrayDataset::Input> targets =
        model.targets ? oneTarget(table.labels)
                      : placeholderTargets(table.features.dims.empty() ? 0 : table.features.dims[0], model);
    DLC_RETURN_IF_ERROR(ArrayDataset::create(path, std::move(inputs), std::move(targets),
                                             int64_t(classNames.size()), &ds),
                        "");
    (split ? out->test : out->train) = std::move(ds);
  }
  if (!classNames.empty()) {
    *classNote = "; classes";
    for (size_t i = 0; i < classNames.size() && i < 20; ++i)
      *classNote += (i ? ", " : " ") + std::to_string(i) + " " + classNames[i];
  }
  return okStatus();
}

Status openImageFolder(OptionReader &opts, const ModelSignature &model, Source *out,
                       std::string *classNote) {
  std::string path, test, colorMode;
  std::vector<double> size;
  DLC_RETURN_IF_ERROR(opts.string("path", &path), "");
  DLC_RETURN_IF_ERROR(opts.string("test", &test, ""), "");
  // The defaults follow the model's first input, where it is an image.
  int64_t height = 256, width = 256, channels = 3;
  if (!model.inputs.empty() && model.inputs[0].shape.size() == 3) {
    height = model.inputs[0].shape[0];
    width = model.inputs[0].shape[1];
    channels = model.inputs[0].shape[2];
  }
  const char *fallbackMode = channels == 1 ? "grayscale" : channels == 4 ? "rgba" : "rgb";
  DLC_RETURN_IF_ERROR(opts.word("color_mode", {"rgb", "grayscale", "rgba"}, &colorMode, fallbackMode), "");
  if (opts.has("image_size")) {
    DLC_RETURN_IF_ERROR(opts.numbers("image_size", &size), "");
    if (size.size() != 2 || size[0] < 1 || size[1] < 1 || size[0] > 16384 || size[1] > 16384 ||
        size[0] != std::floor(size[0]) || size[1] != std::floor(size[1]))
      return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                             "image_folder's image_size must be (height, width) in [1, 16384]");
    height = int64_t(size[0]);
    width = int64_t(size[1]);
  }
  DLC_RETURN_IF_ERROR(opts.finish(), "");
  if (model.inputs.size() > 1)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           "'image_folder' gives one input (the image) but the model takes " +
                               std::to_string(model.inputs.size()));
  const int c = colorMode == "grayscale" ? 1 : colorMode == "rgba" ? 4 : 3;
  std::shared_ptr<ImageFolderDataset> train, testSet;
  DLC_RETURN_IF_ERROR(ImageFolderDataset::open(path, height, width, c, nullptr, &train), "");
  out->train = train;
  if (!test.empty()) {
    DLC_RETURN_IF_ERROR(ImageFolderDataset::open(test, height, width, c, &train->classNames(), &testSet), "");
    out->test = testSet;
  }
  *classNote = "; classes";
  const std::vector<std::string> &names = train->classNames();
  for (size_t i = 0; i < names.size() && i < 20; ++i)
    *classNote += (i ? ", " : " ") + std::to_string(i) + " " + names[i];
  if (names.size() > 20)
    *classNote += ", ...";
  return okStatus();
}
} // namespace

Status openSource(const std::string &kind, const Options &options, const ModelSignature &model,
                  Source *out) {
  OptionReader opts(kind, options);
  Source source;
  std::string note;
  if (!model.targets && (kind == "text" || kind == "image_folder" || kind == "fashion_mnist"))
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           "'" + kind + "' gives labelled examples; to predict, give the inputs as "
                           "npz, npy, safetensors, csv, idx (images only) or a folder of images");
  if (kind == "fashion_mnist") {
    DLC_RETURN_IF_ERROR(openFashionMnist(opts, model, &source), "");
  } else if (kind == "idx") {
    DLC_RETURN_IF_ERROR(openIdx(opts, model, &source), "");
  } else if (kind == "text") {
    DLC_RETURN_IF_ERROR(openText(opts, &source), "");
  } else if (kind == "npy") {
    DLC_RETURN_IF_ERROR(openNpy(opts, model, &source), "");
  } else if (kind == "npz") {
    DLC_RETURN_IF_ERROR(openNamed(opts, model, readNpz, &source), "");
  } else if (kind == "safetensors") {
    DLC_RETURN_IF_ERROR(openNamed(opts, model, readSafetensorsArrays, &source), "");
  } else if (kind == "csv") {
    DLC_RETURN_IF_ERROR(openCsv(opts, model, &source, &note), "");
  } else if (kind == "image_folder") {
    DLC_RETURN_IF_ERROR(openImageFolder(opts, model, &source, &note), "");
  } else {
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           "unknown data source '" + kind +
                               "' (known: fashion_mnist, idx, text, npy, npz, safetensors, csv, "
                               "image_folder)");
  }
  // Only named arrays (npz, safetensors) hold a target per output.
  if (model.targets && model.outputs.size() > 1 && source.train->targets().size() == 1)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           "'" + kind + "' gives one target; a model with " +
                               std::to_string(model.outputs.size()) + " outputs (" + joined(model.outputs) +
                               ") trains from npz or safetensors, one array per output");
  if (source.test) {
    const std::vector<Field> &a = source.train->inputs(), &b = source.test->inputs();
    for (size_t i = 0; i < a.size() && i < b.size(); ++i)
      if (a[i].shape != b[i].shape)
        return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                               source.test->name() + ": test examples are " + shapeString(b[i].shape) +
                                   " but train examples " + shapeString(a[i].shape));
  }
  if (source.summary.empty())
    source.summary = summarize(kind, source) + note;
  *out = std::move(source);
  return okStatus();
}

Status parseValidation(const OptionValue &value, Validation *out) {
  if (const std::string *word = std::get_if<std::string>(&value)) {
    if (*word == "test" || *word == "none") {
      *out = {*word == "test" ? Validation::Kind::kTest : Validation::Kind::kNone, 0};
      return okStatus();
    }
  } else if (const double *fraction = std::get_if<double>(&value)) {
    if (*fraction > 0 && *fraction < 1) {
      *out = {Validation::Kind::kFraction, *fraction};
      return okStatus();
    }
  }
  return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                         "validation must be 'test', 'none' or a fraction in (0, 1) such as 0.1");
}

Status splitSource(const Source &source, const Validation &validation, Splits *out) {
  if (!source.train)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, "split: the source has no train data");
  switch (validation.kind) {
  case Validation::Kind::kNone: *out = {source.train, nullptr}; return okStatus();
  case Validation::Kind::kTest:
    if (!source.test)
      return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                             source.train->name() + " has no test split (use validation = 0.1 "
                                                    "to hold out a fraction of it)");
    *out = {source.train, source.test};
    return okStatus();
  case Validation::Kind::kFraction: break;
  }
  const int64_t n = source.train->size(), gap = source.train->splitGap();
  if (!(validation.fraction > 0 && validation.fraction < 1))
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           "validation fraction must be in (0, 1), got " +
                               std::to_string(validation.fraction));
  const auto at = int64_t(std::floor(double(n) * (1.0 - validation.fraction)));
  if (at - gap < 1 || at >= n)
    return DLC_MAKE_STATUS(
        StatusCode::kInvalidArgument,
        source.train->name() + ": validation = " + std::to_string(validation.fraction) + " of " +
            std::to_string(n) + " examples leaves one part empty (use a different fraction)");
  const std::string base = source.train->name();
  *out = {std::make_shared<SubsetDataset>(source.train, 0, at - gap, base + " (train part)"),
          std::make_shared<SubsetDataset>(source.train, at, n, base + " (validation part)")};
  return okStatus();
}

} // namespace dlc::rt::data
