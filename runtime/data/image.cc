//===- image.cc - Decoding JPEG and PNG images, folders of them ------------===//
#include "runtime/data/image.h"

#include "runtime/data/transforms.h"
#include "runtime/file_io.h"
#include "runtime/float16.h"
#include "runtime/limits.h"

#include <jpeglib.h>
#include <jerror.h>
#include <png.h>

#include <algorithm>
#include <csetjmp>
#include <cstring>
#include <filesystem>

namespace dlc::rt::data {
namespace {

// Larger images are refused before decoding: 2^28 pixels (16384^2) is
// beyond any training image and bounds what a hostile header can make us
// allocate.
constexpr int64_t kMaxPixels = int64_t(1) << 28;

Status undecodable(const std::string &name, const std::string &why) {
  return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, name + ": cannot decode the image: " + why);
}

/// libjpeg reports errors by calling error_exit, which must not return:
/// longjmp back to decodeJpeg with the message.
struct JpegError {
  jpeg_error_mgr manager;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void jpegErrorExit(j_common_ptr info) {
  auto *error = reinterpret_cast<JpegError *>(info->err);
  (*info->err->format_message)(info, error->message);
  std::longjmp(error->jump, 1);
}

/// Warnings are not fatal (extraneous bytes before a marker), except a file
/// that ends early: libjpeg would fill the rest with grey, tf.io.decode_jpeg
/// and Pillow refuse it, and so do we.
void jpegWarning(j_common_ptr info, int level) {
  if (level == -1 && info->err->msg_code == JWRN_JPEG_EOF)
    jpegErrorExit(info);
}

Status decodeJpeg(const uint8_t *bytes, size_t size, const std::string &name, Image *out) {
  jpeg_decompress_struct info;
  JpegError error;
  info.err = jpeg_std_error(&error.manager);
  error.manager.error_exit = jpegErrorExit;
  error.manager.emit_message = jpegWarning;
  // Everything the longjmp skips over must be trivially destructible or
  // owned outside this frame: the rows land in |out|, sized before decoding.
  if (setjmp(error.jump)) {
    jpeg_destroy_decompress(&info);
    return undecodable(name, error.message);
  }
  jpeg_create_decompress(&info);
  jpeg_mem_src(&info, bytes, static_cast<unsigned long>(size));
  jpeg_read_header(&info, TRUE);
  // Decode to grey or RGB; CMYK and YCCK arrive as RGB too.
  info.out_color_space = info.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_start_decompress(&info);
  const int64_t height = info.output_height, width = info.output_width,
                channels = info.output_components;
  if (height * width > kMaxPixels) {
    jpeg_destroy_decompress(&info);
    return undecodable(name, std::to_string(width) + "x" + std::to_string(height) +
                                 " pixels is too large");
  }
  out->height = height;
  out->width = width;
  out->channels = channels;
  out->pixels.resize(size_t(height * width * channels));
  while (info.output_scanline < info.output_height) {
    JSAMPROW row = out->pixels.data() + size_t(info.output_scanline) * size_t(width * channels);
    jpeg_read_scanlines(&info, &row, 1);
  }
  jpeg_finish_decompress(&info);
  jpeg_destroy_decompress(&info);
  return okStatus();
}

Status decodePng(const uint8_t *bytes, size_t size, const std::string &name, Image *out) {
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&image, bytes, size))
    return undecodable(name, image.message);
  const bool grey = !(image.format & PNG_FORMAT_FLAG_COLOR);
  const bool alpha = image.format & PNG_FORMAT_FLAG_ALPHA;
  if (int64_t(image.width) * int64_t(image.height) > kMaxPixels) {
    png_image_free(&image);
    return undecodable(name, std::to_string(image.width) + "x" + std::to_string(image.height) +
                                 " pixels is too large");
  }
  // 8 bits per channel (16-bit PNGs are scaled, palettes expanded), keeping
  // grey as grey; alpha is composited onto black by libpng when dropped.
  image.format = grey ? (alpha ? PNG_FORMAT_GA : PNG_FORMAT_GRAY)
                      : (alpha ? PNG_FORMAT_RGBA : PNG_FORMAT_RGB);
  out->height = image.height;
  out->width = image.width;
  out->channels = PNG_IMAGE_SAMPLE_CHANNELS(image.format);
  out->pixels.resize(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, out->pixels.data(), 0, nullptr)) {
    std::string message = image.message;
    png_image_free(&image);
    return undecodable(name, message);
  }
  if (image.warning_or_error & PNG_IMAGE_ERROR)
    return undecodable(name, image.message);
  return okStatus();
}

/// |in| with its channels converted to |channels|.
void convertChannels(Image *image, int channels) {
  const int64_t from = image->channels, pixels = image->height * image->width;
  if (from == channels)
    return;
  std::vector<uint8_t> out(size_t(pixels * channels));
  for (int64_t p = 0; p < pixels; ++p) {
    const uint8_t *src = image->pixels.data() + p * from;
    uint8_t *dst = out.data() + p * channels;
    const bool colour = from >= 3;
    const uint8_t alpha = from == 2 ? src[1] : from == 4 ? src[3] : 255;
    if (channels == 1) {
      // tf.image.rgb_to_grayscale's weights.
      dst[0] = colour ? uint8_t(std::min(255.0, 0.2989 * src[0] + 0.5870 * src[1] +
                                                    0.1140 * src[2] + 0.5))
                      : src[0];
      continue;
    }
    for (int c = 0; c < 3; ++c)
      dst[c] = colour ? src[c] : src[0];
    if (channels == 4)
      dst[3] = alpha;
  }
  image->pixels = std::move(out);
  image->channels = channels;
}

bool isImageFile(const std::filesystem::path &path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png";
}

} // namespace

Status decodeImage(const uint8_t *bytes, size_t size, int channels, const std::string &name,
                   Image *out) {
  if (channels != 1 && channels != 3 && channels != 4)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, "images have 1, 3 or 4 channels");
  Image image;
  if (size >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF) {
    DLC_RETURN_IF_ERROR(decodeJpeg(bytes, size, name, &image), "");
  } else if (size >= 8 && png_sig_cmp(bytes, 0, 8) == 0) {
    DLC_RETURN_IF_ERROR(decodePng(bytes, size, name, &image), "");
  } else {
    return undecodable(name, "neither a JPEG nor a PNG file");
  }
  if (image.height < 1 || image.width < 1)
    return undecodable(name, "the image has no pixels");
  convertChannels(&image, channels);
  *out = std::move(image);
  return okStatus();
}

Status readImage(const std::string &path, int channels, Image *out) {
  std::vector<uint8_t> bytes;
  DLC_RETURN_IF_ERROR(readFile(path, &bytes, uint64_t(1) << 30, "an image"), "");
  return decodeImage(bytes.data(), bytes.size(), channels, path, out);
}

Status ImageFolderDataset::open(const std::string &root, int64_t height, int64_t width,
                                int channels, const std::vector<std::string> *classNames,
                                std::shared_ptr<ImageFolderDataset> *out) {
  namespace fs = std::filesystem;
  std::error_code error;
  if (!fs::is_directory(root, error))
    return DLC_MAKE_STATUS(fs::exists(root, error) ? StatusCode::kInvalidArgument
                                                   : StatusCode::kNotFound,
                           root + ": not a directory (image_folder wants one sub-folder of "
                                  "images per class)");
  auto ds = std::make_shared<ImageFolderDataset>();
  ds->root_ = root;
  if (classNames && !classNames->empty()) {
    ds->classNames_ = *classNames;
  } else {
    for (const fs::directory_entry &entry : fs::directory_iterator(root, error))
      if (entry.is_directory(error) && entry.path().filename().string()[0] != '.')
        ds->classNames_.push_back(entry.path().filename().string());
    std::sort(ds->classNames_.begin(), ds->classNames_.end());
  }
  if (error)
    return DLC_MAKE_STATUS(StatusCode::kUnavailable, root + ": " + error.message());
  if (ds->classNames_.empty())
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           root + ": no class sub-folders (image_folder wants "
                                  "root/<class name>/<images>)");
  for (size_t c = 0; c < ds->classNames_.size(); ++c) {
    const fs::path dir = fs::path(root) / ds->classNames_[c];
    std::vector<std::string> files;
    if (fs::is_directory(dir, error))
      for (const fs::directory_entry &entry : fs::directory_iterator(dir, error))
        if (entry.is_regular_file(error) && isImageFile(entry.path()))
          files.push_back(entry.path().string());
    if (error)
      return DLC_MAKE_STATUS(StatusCode::kUnavailable, dir.string() + ": " + error.message());
    if (files.empty() && !(classNames && !classNames->empty()))
      return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                             dir.string() + ": the class '" + ds->classNames_[c] +
                                 "' has no .jpg, .jpeg or .png files");
    std::sort(files.begin(), files.end());
    for (std::string &f : files) {
      ds->files_.push_back(std::move(f));
      ds->labels_.push_back(int32_t(c));
    }
    if (ds->files_.size() > size_t(INT32_MAX))
      return DLC_MAKE_STATUS(StatusCode::kResourceExhausted, root + ": too many files");
  }
  if (ds->files_.empty())
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, root + ": holds no images");
  ds->inputs_ = {Field{"", DType::kF32, {height, width, channels}}};
  ds->targets_ = {Field{"labels", DType::kI32, {}}};
  *out = std::move(ds);
  return okStatus();
}

Status ImageFolderDataset::gatherChecked(const int64_t *indices, int64_t count, void *const *inputs,
                                         const DType *inputTypes, void *const *targets,
                                         const DType *targetTypes) const {
  const std::vector<int64_t> &shape = inputs_[0].shape;
  const int64_t H = shape[0], W = shape[1], C = shape[2], pixels = H * W * C;
  std::vector<Status> errors(size_t(count), okStatus());
  const bool f32 = inputTypes[0] == DType::kF32;
  // Decoding dominates; examples are independent. Each thread keeps its
  // buffers across images: fresh ones of an image's size each time cost
  // page faults comparable to the decoding.
#pragma omp parallel for schedule(dynamic)
  for (int64_t r = 0; r < count; ++r) {
    thread_local Image image;
    thread_local std::vector<float> source, converted;
    Status status = readImage(files_[size_t(indices[r])], int(C), &image);
    if (!status.ok()) {
      errors[size_t(r)] = status;
      continue;
    }
    if (!f32)
      converted.resize(size_t(pixels));
    float *destination = f32 ? static_cast<float *>(inputs[0]) + r * pixels : converted.data();
    if (image.height == H && image.width == W) {
      std::copy(image.pixels.begin(), image.pixels.end(), destination);
    } else {
      source.assign(image.pixels.begin(), image.pixels.end());
      resizeBilinear(source.data(), image.width, C, 0, 0, image.height, image.width, destination, H, W);
    }
    if (!f32)
      for (int64_t i = 0; i < pixels; ++i)
        storeElement(inputTypes[0], inputs[0], r * pixels + i, converted[size_t(i)]);
    storeElement(targetTypes[0], targets[0], r, labels_[size_t(indices[r])]);
  }
  for (const Status &s : errors)
    if (!s.ok())
      return s;
  return okStatus();
}

} // namespace dlc::rt::data
