//===- image.h - Decoding JPEG and PNG images, folders of them -------------===//
//
// decodeImage reads JPEG (libjpeg-turbo) and PNG (libpng), told apart by
// their first bytes, not their names, into 8-bit pixels with the channels a
// model wants: grey is replicated to RGB, RGB is turned to grey by
// ITU-R 601 luma (as tf.image.rgb_to_grayscale), alpha is dropped (or
// added, opaque). 16-bit PNGs are scaled to 8 bits, palettes expanded.
//
// ImageFolderDataset is Keras' image_dataset_from_directory: one
// sub-folder per class, classes numbered in the sorted order of their names,
// files with an image extension (.jpg .jpeg .png, any case) listed once at
// open and decoded when a batch asks for them, resized bilinearly to
// image_size, float32 pixel values 0-255 as Keras yields. A file that does
// not decode fails the batch naming the file.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/data/dataset.h"

namespace dlc::rt::data {

struct Image {
  int64_t height = 0, width = 0, channels = 0;
  std::vector<uint8_t> pixels; // [height, width, channels]
};

/// Decodes JPEG or PNG |bytes| to |channels| (1 grey, 3 RGB, 4 RGBA);
/// |name| prefixes errors (kInvalidArgument for anything undecodable).
Status decodeImage(const uint8_t *bytes, size_t size, int channels, const std::string &name,
                   Image *out);

/// Reads and decodes the file |path|.
Status readImage(const std::string &path, int channels, Image *out);

class ImageFolderDataset : public Dataset {
public:
  /// Lists |root|/<class>/<image files>. |classNames| (the train folder's,
  /// for a test folder) fixes the classes; otherwise they are |root|'s
  /// sub-folders. Fails for no classes, an empty class, or more than
  /// 2^31 files.
  static Status open(const std::string &root, int64_t height, int64_t width, int channels,
                     const std::vector<std::string> *classNames,
                     std::shared_ptr<ImageFolderDataset> *out);

  int64_t size() const override { return int64_t(files_.size()); }
  const std::vector<Field> &inputs() const override { return inputs_; }
  /// One target: the class id.
  const std::vector<Field> &targets() const override { return targets_; }
  int64_t numClasses(size_t) const override { return int64_t(classNames_.size()); }
  std::string name() const override { return root_; }
  const std::vector<std::string> &classNames() const { return classNames_; }

protected:
  Status gatherChecked(const int64_t *indices, int64_t count, void *const *inputs,
                       const DType *inputTypes, void *const *targets,
                       const DType *targetTypes) const override;

private:
  std::string root_;
  std::vector<std::string> classNames_;
  std::vector<std::string> files_;
  std::vector<int32_t> labels_;
  std::vector<Field> inputs_, targets_;
};

} // namespace dlc::rt::data
