//===- formats_test.cc - .npy, CSV, JPEG and PNG readers ------------------===//
//
// Files numpy and Pillow write are read in the lit tests (test/Integration/
// data-sources.test); these build the formats byte by byte to pin down
// headers, conversions and every rejection.
//
//===----------------------------------------------------------------------===//
#include "runtime/data/csv.h"
#include "runtime/data/image.h"
#include "runtime/data/npy.h"

#include <gtest/gtest.h>

#include <jpeglib.h>
#include <png.h>

#include <cstring>
#include <filesystem>
#include <fstream>

using namespace dlc::rt;
using namespace dlc::rt::data;
namespace fs = std::filesystem;

namespace {

std::vector<uint8_t> npyBytes(const std::string &dict, const std::vector<uint8_t> &data,
                              int version = 1) {
  std::string header = dict;
  const size_t prefix = version == 1 ? 10 : 12;
  while ((prefix + header.size() + 1) % 64)
    header += ' ';
  header += '\n';
  std::vector<uint8_t> out = {0x93, 'N', 'U', 'M', 'P', 'Y', uint8_t(version), 0};
  for (int i = 0; i < (version == 1 ? 2 : 4); ++i)
    out.push_back(uint8_t(header.size() >> (8 * i)));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

Status parse(const std::vector<uint8_t> &bytes, HostArray *out) {
  auto owner = std::make_shared<std::vector<uint8_t>>(bytes);
  return parseNpy(owner->data(), owner->size(), owner, "t.npy", out);
}

std::string tempDir() {
  std::string pattern = (fs::temp_directory_path() / "dlc_formats_XXXXXX").string();
  EXPECT_NE(::mkdtemp(pattern.data()), nullptr);
  return pattern;
}

void writeText(const std::string &path, const std::string &text) {
  std::ofstream(path, std::ios::binary) << text;
}

TEST(DataNpy, ReadsHeadersAndTypes) {
  std::vector<uint8_t> floats(6 * 4);
  for (int i = 0; i < 6; ++i) {
    float v = float(i) * 0.5f;
    std::memcpy(floats.data() + 4 * i, &v, 4);
  }
  HostArray a;
  Status s = parse(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", floats), &a);
  ASSERT_TRUE(s.ok()) << s.toString();
  EXPECT_EQ(a.dtype, DType::kF32);
  EXPECT_EQ(a.dims, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a.at(5), 2.5);
  // Version 2 header, double quotes, no trailing comma, a 1-d shape.
  s = parse(npyBytes("{\"descr\": \"|u1\", \"shape\": (4,), \"fortran_order\": False}",
                     {1, 2, 3, 250}, 2),
            &a);
  ASSERT_TRUE(s.ok()) << s.toString();
  EXPECT_EQ(a.dtype, DType::kU8);
  EXPECT_EQ(a.at(3), 250);
  // A scalar.
  s = parse(npyBytes("{'descr': '<i8', 'fortran_order': False, 'shape': (), }",
                     {7, 0, 0, 0, 0, 0, 0, 0}),
            &a);
  ASSERT_TRUE(s.ok()) << s.toString();
  EXPECT_TRUE(a.dims.empty());
  EXPECT_EQ(a.at(0), 7);
  float out[3];
  s = parse(npyBytes("{'descr': '<f2', 'fortran_order': False, 'shape': (3,), }",
                     {0x00, 0x3C, 0x00, 0xC0, 0x00, 0x00}),
            &a);
  ASSERT_TRUE(s.ok()) << s.toString();
  convertElements(a, 0, 3, DType::kF32, out);
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], -2.0f);
}

TEST(DataNpy, RejectsWhatItCannotRead) {
  HostArray a;
  auto message = [&](const std::string &dict, std::vector<uint8_t> data) {
    Status s = parse(npyBytes(dict, data), &a);
    EXPECT_FALSE(s.ok()) << dict;
    return s.message();
  };
  EXPECT_NE(message("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", {0, 0, 0, 0})
                .find("big-endian"),
            std::string::npos);
  EXPECT_NE(message("{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }", {0, 0, 0, 0})
                .find("Fortran order"),
            std::string::npos);
  EXPECT_NE(message("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", {0})
                .find("not supported"),
            std::string::npos);
  EXPECT_NE(message("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", {})
                .find("structured"),
            std::string::npos);
  EXPECT_NE(message("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", {0, 0, 0, 0})
                .find("truncated"),
            std::string::npos);
  EXPECT_NE(message("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999), }", {})
                .find("too large"),
            std::string::npos);
  EXPECT_NE(message("{'descr': '<f4', 'shape': (1,), }", {0, 0, 0, 0}).find("lacks"),
            std::string::npos);
  std::vector<uint8_t> bytes = npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }",
                                        {0, 0, 0, 0});
  bytes[8] = 0xFF; // the header's length runs past the file
  bytes[9] = 0x7F;
  EXPECT_EQ(parse(bytes, &a).code(), StatusCode::kDataLoss);
  EXPECT_EQ(parse({1, 2, 3}, &a).code(), StatusCode::kDataLoss);
  EXPECT_EQ(readNpy("/nonexistent.npy", &a).code(), StatusCode::kNotFound);
  std::map<std::string, HostArray> arrays;
  const std::string dir = tempDir();
  writeText(dir + "/bad.npz", "PK\x03\x04 not really a zip archive");
  Status s = readNpz(dir + "/bad.npz", &arrays);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s.toString();
  fs::remove_all(dir);
}

TEST(DataCsv, ReadsQuotedFieldsAndWordLabels) {
  const std::string dir = tempDir();
  writeText(dir + "/iris.csv",
            "sepal,\"petal, width\",species\r\n"
            "5.1,0.2,setosa\r\n"
            "\"6.4\",1.5e0,versicolor\n"
            "5.9, 2.1 ,virginica\n\n");
  CsvOptions options;
  options.labels = {"species"};
  CsvTable t;
  Status s = readCsv(dir + "/iris.csv", options, nullptr, &t);
  ASSERT_TRUE(s.ok()) << s.toString();
  EXPECT_EQ(t.features.dims, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(t.featureNames, (std::vector<std::string>{"sepal", "petal, width"}));
  EXPECT_EQ(t.classNames, (std::vector<std::string>{"setosa", "versicolor", "virginica"}));
  EXPECT_EQ(t.features.at(3), 1.5);
  EXPECT_EQ(t.labels.dtype, DType::kI64);
  EXPECT_EQ(t.labels.at(2), 2);

  // Regression: two float label columns; a column subset as features.
  writeText(dir + "/r.csv", "a;b;c;d\n1;2;0.5;-1\n3;4;1.5;2\n");
  options = {};
  options.labels = {"c", "d"};
  options.columns = {"b"};
  options.delimiter = ';';
  s = readCsv(dir + "/r.csv", options, nullptr, &t);
  ASSERT_TRUE(s.ok()) << s.toString();
  EXPECT_EQ(t.features.dims, (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(t.features.at(1), 4);
  EXPECT_EQ(t.labels.dtype, DType::kF32);
  EXPECT_EQ(t.labels.dims, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(t.labels.at(3), 2);
  fs::remove_all(dir);
}

TEST(DataCsv, ErrorsNameFileAndLine) {
  const std::string dir = tempDir();
  auto error = [&](const std::string &text, const std::string &label = "y") {
    writeText(dir + "/d.csv", text);
    CsvOptions options;
    options.labels = {label};
    CsvTable t;
    Status s = readCsv(dir + "/d.csv", options, nullptr, &t);
    EXPECT_FALSE(s.ok()) << text;
    return s.message();
  };
  EXPECT_NE(error("x,y\n1,0\n2\n").find("d.csv:3: the row has 1 fields but the header has 2"),
            std::string::npos);
  EXPECT_NE(error("x,y\n1,0\nabc,1\n").find("d.csv:3: column 'x' holds 'abc', not a finite number"),
            std::string::npos);
  EXPECT_NE(error("x,y\n1,0\n,1\n").find("(a missing value)"), std::string::npos);
  EXPECT_NE(error("x,y\nnan,0\n").find("not a finite number"), std::string::npos);
  EXPECT_NE(error("x,y\n1,0\n", "z").find("no column 'z' (the header names: x, y)"),
            std::string::npos);
  EXPECT_NE(error("x,y\n1,\"0\n").find("never closed"), std::string::npos);
  EXPECT_NE(error("x,y\n1,0\n2,cat\n").find("d.csv:3: label column 'y' holds 'cat', a word among numbers"),
            std::string::npos);
  // A class the training file did not have.
  writeText(dir + "/t.csv", "x,y\n1,dog\n");
  CsvOptions options;
  options.labels = {"y"};
  CsvTable t;
  std::vector<std::string> names = {"cat"};
  Status s = readCsv(dir + "/t.csv", options, &names, &t);
  EXPECT_NE(s.message().find("t.csv:2: the class 'dog' is not one of the training file's 1 classes"),
            std::string::npos)
      << s.toString();
  fs::remove_all(dir);
}

std::vector<uint8_t> encodePng(int width, int height, int format, const std::vector<uint8_t> &pixels) {
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  image.width = uint32_t(width);
  image.height = uint32_t(height);
  image.format = uint32_t(format);
  png_alloc_size_t size = 0;
  EXPECT_TRUE(png_image_write_to_memory(&image, nullptr, &size, 0, pixels.data(), 0, nullptr));
  std::vector<uint8_t> out(size);
  EXPECT_TRUE(png_image_write_to_memory(&image, out.data(), &size, 0, pixels.data(), 0, nullptr));
  out.resize(size);
  return out;
}

std::vector<uint8_t> encodeJpeg(int width, int height, int channels, const std::vector<uint8_t> &pixels) {
  jpeg_compress_struct info;
  jpeg_error_mgr error;
  info.err = jpeg_std_error(&error);
  jpeg_create_compress(&info);
  unsigned char *buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&info, &buffer, &size);
  info.image_width = JDIMENSION(width);
  info.image_height = JDIMENSION(height);
  info.input_components = channels;
  info.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&info);
  jpeg_set_quality(&info, 100, TRUE);
  jpeg_start_compress(&info, TRUE);
  while (info.next_scanline < info.image_height) {
    JSAMPROW row = const_cast<uint8_t *>(pixels.data()) + info.next_scanline * width * channels;
    jpeg_write_scanlines(&info, &row, 1);
  }
  jpeg_finish_compress(&info);
  std::vector<uint8_t> out(buffer, buffer + size);
  jpeg_destroy_compress(&info);
  free(buffer);
  return out;
}

TEST(DataImage, DecodesPngAndJpegToTheChannelsAsked) {
  // A 2x1 RGB PNG: red, then grey 100.
  std::vector<uint8_t> rgb = {255, 0, 0, 100, 100, 100};
  std::vector<uint8_t> png = encodePng(2, 1, PNG_FORMAT_RGB, rgb);
  Image image;
  Status s = decodeImage(png.data(), png.size(), 3, "a.png", &image);
  ASSERT_TRUE(s.ok()) << s.toString();
  EXPECT_EQ(image.pixels, rgb);
  ASSERT_TRUE(decodeImage(png.data(), png.size(), 1, "a.png", &image).ok());
  EXPECT_EQ(image.pixels, (std::vector<uint8_t>{76, 100})); // 0.2989 * 255
  ASSERT_TRUE(decodeImage(png.data(), png.size(), 4, "a.png", &image).ok());
  EXPECT_EQ(image.pixels, (std::vector<uint8_t>{255, 0, 0, 255, 100, 100, 100, 255}));
  // Grey to RGB replicates.
  std::vector<uint8_t> grey = encodePng(1, 2, PNG_FORMAT_GRAY, {7, 200});
  ASSERT_TRUE(decodeImage(grey.data(), grey.size(), 3, "g.png", &image).ok());
  EXPECT_EQ(image.pixels, (std::vector<uint8_t>{7, 7, 7, 200, 200, 200}));
  EXPECT_EQ(image.height, 2);

  // JPEG is lossy: a flat 8x8 block comes back within a grey level.
  std::vector<uint8_t> flat(8 * 8 * 3);
  for (size_t i = 0; i < flat.size(); ++i)
    flat[i] = i % 3 == 0 ? 200 : i % 3 == 1 ? 50 : 10;
  std::vector<uint8_t> jpeg = encodeJpeg(8, 8, 3, flat);
  s = decodeImage(jpeg.data(), jpeg.size(), 3, "a.jpg", &image);
  ASSERT_TRUE(s.ok()) << s.toString();
  ASSERT_EQ(image.pixels.size(), flat.size());
  for (size_t i = 0; i < flat.size(); ++i)
    EXPECT_NEAR(image.pixels[i], flat[i], 2) << i;

  // Damaged files are errors naming the file, never a crash.
  std::vector<uint8_t> cut(jpeg.begin(), jpeg.begin() + 20);
  s = decodeImage(cut.data(), cut.size(), 3, "cut.jpg", &image);
  EXPECT_NE(s.message().find("cut.jpg: cannot decode the image"), std::string::npos) << s.toString();
  std::vector<uint8_t> truncated(jpeg.begin(), jpeg.begin() + jpeg.size() * 3 / 4);
  s = decodeImage(truncated.data(), truncated.size(), 3, "short.jpg", &image);
  EXPECT_NE(s.message().find("short.jpg: cannot decode the image: Premature end of JPEG file"),
            std::string::npos)
      << s.toString();
  std::vector<uint8_t> badPng(png.begin(), png.begin() + 30);
  s = decodeImage(badPng.data(), badPng.size(), 3, "cut.png", &image);
  EXPECT_NE(s.message().find("cut.png: cannot decode the image"), std::string::npos) << s.toString();
  const uint8_t text[] = "hello";
  s = decodeImage(text, 5, 3, "x.png", &image);
  EXPECT_NE(s.message().find("neither a JPEG nor a PNG"), std::string::npos);
}

TEST(DataImage, FolderListsClassesAndResizes) {
  const std::string dir = tempDir();
  fs::create_directories(dir + "/train/b_dog");
  fs::create_directories(dir + "/train/a_cat");
  fs::create_directories(dir + "/train/.hidden");
  std::vector<uint8_t> png = encodePng(4, 4, PNG_FORMAT_GRAY, std::vector<uint8_t>(16, 80));
  std::ofstream(dir + "/train/a_cat/1.PNG", std::ios::binary).write((const char *)png.data(), png.size());
  std::ofstream(dir + "/train/b_dog/2.png", std::ios::binary).write((const char *)png.data(), png.size());
  writeText(dir + "/train/b_dog/notes.txt", "ignored");
  writeText(dir + "/train/b_dog/3.jpg", "not a jpeg");
  std::shared_ptr<ImageFolderDataset> ds;
  Status s = ImageFolderDataset::open(dir + "/train", 2, 3, 3, nullptr, &ds);
  ASSERT_TRUE(s.ok()) << s.toString();
  EXPECT_EQ(ds->classNames(), (std::vector<std::string>{"a_cat", "b_dog"}));
  EXPECT_EQ(ds->size(), 3);
  std::vector<float> pixels(2 * 2 * 3 * 3, -1);
  std::vector<int32_t> labels(2, -1);
  int64_t idx[] = {1, 0};
  s = ds->gather(idx, 2, {TensorView{pixels.data(), DType::kF32, {2, 2, 3, 3}}},
                 {TensorView{labels.data(), DType::kI32, {2}}});
  ASSERT_TRUE(s.ok()) << s.toString();
  EXPECT_EQ(labels, (std::vector<int32_t>{1, 0}));
  for (float p : pixels)
    EXPECT_EQ(p, 80.0f);
  int64_t broken[] = {2};
  s = ds->gather(broken, 1, {TensorView{pixels.data(), DType::kF32, {2, 2, 3, 3}}},
                 {TensorView{labels.data(), DType::kI32, {2}}});
  EXPECT_NE(s.message().find("b_dog/3.jpg: cannot decode the image: neither a JPEG nor a PNG"),
            std::string::npos)
      << s.toString();
  fs::create_directories(dir + "/empty/c");
  s = ImageFolderDataset::open(dir + "/empty", 2, 2, 3, nullptr, &ds);
  EXPECT_NE(s.message().find("the class 'c' has no .jpg, .jpeg or .png files"), std::string::npos)
      << s.toString();
  fs::remove_all(dir);
}

} // namespace
