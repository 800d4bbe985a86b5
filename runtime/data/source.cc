//===- source.cc - Opening a data section's source and splitting it ------===//
#include "runtime/data/source.h"

#include "runtime/data/text.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <sys/stat.h>

namespace dlc::rt::data {
namespace {

std::string summarize(const std::string &kind, const Source &s) {
  std::string text = kind + ": " + std::to_string(s.train->size()) + " train";
  if (s.test)
    text += ", " + std::to_string(s.test->size()) + " test";
  return text + " examples of " + dtypeName(s.train->inputDType()) + " " +
         shapeString(s.train->exampleShape()) + ", " + std::to_string(s.train->numClasses()) +
         " classes";
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

Status loadPair(const std::string &name, IdxArray images, IdxArray labels, int64_t classes,
                std::shared_ptr<const Dataset> *out) {
  std::shared_ptr<ArrayDataset> ds;
  DLC_RETURN_IF_ERROR(
      ArrayDataset::create(name, std::move(images), std::move(labels), classes, &ds), "");
  *out = std::move(ds);
  return okStatus();
}

Status openFashionMnist(OptionReader &opts, Source *out) {
  std::string dir;
  DLC_RETURN_IF_ERROR(opts.string("path", &dir, "/usr/share/datasets/fashion-mnist"), "");
  DLC_RETURN_IF_ERROR(opts.finish(), "");
  IdxArray files[4];
  const char *names[4] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                          "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
  for (int i = 0; i < 4; ++i)
    DLC_RETURN_IF_ERROR(readFashionFile(dir, names[i], &files[i]), "");
  DLC_RETURN_IF_ERROR(
      loadPair("Fashion-MNIST train", std::move(files[0]), std::move(files[1]), 10, &out->train),
      "");
  DLC_RETURN_IF_ERROR(
      loadPair("Fashion-MNIST test", std::move(files[2]), std::move(files[3]), 10, &out->test), "");
  return okStatus();
}

Status openIdx(OptionReader &opts, Source *out) {
  std::string paths[4];
  const char *keys[4] = {"train_images", "train_labels", "test_images", "test_labels"};
  for (int i = 0; i < 4; ++i)
    DLC_RETURN_IF_ERROR(opts.string(keys[i], &paths[i], i < 2 ? nullptr : ""), "");
  DLC_RETURN_IF_ERROR(opts.finish(), "");
  if (paths[2].empty() != paths[3].empty())
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           "'idx' needs both test_images and test_labels, or neither");
  const int files = paths[2].empty() ? 2 : 4;
  IdxArray arrays[4];
  int64_t classes = 0;
  for (int i = 0; i < files; ++i) {
    DLC_RETURN_IF_ERROR(readIdx(paths[i], &arrays[i]), std::string("idx ") + keys[i]);
    int64_t implied = 0;
    if (i % 2 == 1) {
      DLC_RETURN_IF_ERROR(ArrayDataset::countClasses(arrays[i], paths[i], &implied), "");
      classes = std::max(classes, implied);
    }
  }
  DLC_RETURN_IF_ERROR(
      loadPair(paths[0], std::move(arrays[0]), std::move(arrays[1]), classes, &out->train), "");
  if (files == 4) {
    DLC_RETURN_IF_ERROR(
        loadPair(paths[2], std::move(arrays[2]), std::move(arrays[3]), classes, &out->test), "");
    if (out->test->exampleShape() != out->train->exampleShape())
      return DLC_MAKE_STATUS(
          StatusCode::kInvalidArgument,
          paths[2] + ": test images are " + shapeString(out->test->exampleShape()) +
              " but train images are " + shapeString(out->train->exampleShape()));
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

} // namespace

Status openSource(const std::string &kind, const Options &options, Source *out) {
  OptionReader opts(kind, options);
  Source source;
  if (kind == "fashion_mnist") {
    DLC_RETURN_IF_ERROR(openFashionMnist(opts, &source), "");
  } else if (kind == "idx") {
    DLC_RETURN_IF_ERROR(openIdx(opts, &source), "");
  } else if (kind == "text") {
    DLC_RETURN_IF_ERROR(openText(opts, &source), "");
  } else if (kind == "image_folder" || kind == "safetensors") {
    return DLC_MAKE_STATUS(
        StatusCode::kInvalidArgument,
        "data source '" + kind +
            "' is not supported by this runtime yet "
            "(use fashion_mnist, idx or text, or convert the data to IDX files)");
  } else {
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           "unknown data source '" + kind +
                               "' (known: fashion_mnist, idx, text, image_folder, safetensors)");
  }
  if (source.summary.empty())
    source.summary = summarize(kind, source);
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
