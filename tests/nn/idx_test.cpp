// The IDX reader against small files written here, plain and gzipped, and every way a file can
// be broken.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <autodiff/autodiff.hpp>
#include <nn/idx.hpp>

namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<unsigned char>;

// An IDX file: magic 0, 0, 0x08, ndims; big-endian uint32 dims; then the payload.
Bytes idx_bytes(const std::vector<uint32_t>& dims, const Bytes& payload, unsigned char type = 0x08) {
  Bytes b{0, 0, type, static_cast<unsigned char>(dims.size())};
  for (uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) b.push_back(static_cast<unsigned char>(d >> shift));
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

// Three 2×3 images whose pixel p of image i is 10·i + p·40 (so every value is distinct).
Bytes three_images() {
  Bytes payload;
  for (int i = 0; i < 3; ++i)
    for (int p = 0; p < 6; ++p) payload.push_back(static_cast<unsigned char>(10 * i + 40 * p));
  return idx_bytes({3, 2, 3}, payload);
}

class IdxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tapegrad_idx_test_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "_" +
            std::to_string(::getpid()));  // other runs of the suite may share the machine
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write_plain(const std::string& name, const Bytes& b) {
    std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
    return path;
  }
  std::string write_gz(const std::string& name, const Bytes& b) {
    std::string path = (dir_ / name).string();
    gzFile f = gzopen(path.c_str(), "wb");
    EXPECT_EQ(gzwrite(f, b.data(), static_cast<unsigned>(b.size())), static_cast<int>(b.size()));
    gzclose(f);
    return path;
  }
  Bytes read_back(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), {});
  }

  fs::path dir_;
};

// Expects ad::ValueError whose message holds every one of `parts`.
template <class F>
void expect_value_error(F&& f, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "no exception; expected one mentioning " << parts.front();
  } catch (const ad::ValueError& e) {
    std::string msg = e.what();
    for (const std::string& part : parts) EXPECT_NE(msg.find(part), std::string::npos) << msg;
  }
}

void expect_three_images(const ad::Tensor& X) {
  ASSERT_EQ(X.shape(), ad::Shape({6, 3}));
  EXPECT_EQ(X.dtype(), ad::DType::f32);
  std::vector<double> v = X.to_vector();
  for (int p = 0; p < 6; ++p)
    for (int i = 0; i < 3; ++i)
      EXPECT_FLOAT_EQ(static_cast<float>(v[p * 3 + i]), static_cast<float>(10 * i + 40 * p) / 255.0f)
          << "pixel " << p << " of image " << i;
}

TEST_F(IdxTest, PlainImagesAreColumnsScaledToUnitInterval) {
  expect_three_images(ad::nn::read_idx_images(write_plain("img", three_images())));
}

TEST_F(IdxTest, GzippedImagesReadTheSame) {
  expect_three_images(ad::nn::read_idx_images(write_gz("img.gz", three_images())));
}

TEST_F(IdxTest, FullScaleByteIsOne) {
  ad::Tensor X = ad::nn::read_idx_images(write_plain("img", idx_bytes({1, 1, 2}, {255, 0})));
  EXPECT_EQ(X.to_vector(), (std::vector<double>{1.0, 0.0}));
}

TEST_F(IdxTest, LimitKeepsTheFirstImages) {
  ad::Tensor X = ad::nn::read_idx_images(write_gz("img.gz", three_images()), 2);
  ASSERT_EQ(X.shape(), ad::Shape({6, 2}));
  EXPECT_FLOAT_EQ(static_cast<float>(X.to_vector()[5 * 2 + 1]), (10.0f + 200.0f) / 255.0f);
}

TEST_F(IdxTest, LabelsPlainAndGzipped) {
  Bytes labels = idx_bytes({4}, {3, 0, 9, 1});
  std::vector<int64_t> expected{3, 0, 9, 1};
  EXPECT_EQ(ad::nn::read_idx_labels(write_plain("lab", labels)), expected);
  EXPECT_EQ(ad::nn::read_idx_labels(write_gz("lab.gz", labels)), expected);
  EXPECT_EQ(ad::nn::read_idx_labels(write_gz("lab2.gz", labels), 10, 2), (std::vector<int64_t>{3, 0}));
}

TEST_F(IdxTest, SplitFindsGzippedOrPlainFiles) {
  write_gz("train-images-idx3-ubyte.gz", three_images());
  write_plain("train-labels-idx1-ubyte", idx_bytes({3}, {7, 8, 9}));
  ad::nn::IdxSplit split = ad::nn::load_idx_split(dir_.string(), "train");
  expect_three_images(split.X);
  EXPECT_EQ(split.labels, (std::vector<int64_t>{7, 8, 9}));
  EXPECT_EQ(ad::nn::find_idx_file(dir_.string(), "train-labels-idx1-ubyte"),
            (dir_ / "train-labels-idx1-ubyte").string());
  EXPECT_EQ(ad::nn::find_idx_file(dir_.string(), "t10k-labels-idx1-ubyte"), "");
}

TEST_F(IdxTest, SplitWithDifferentCountsThrows) {
  write_plain("train-images-idx3-ubyte", three_images());
  write_plain("train-labels-idx1-ubyte", idx_bytes({2}, {7, 8}));
  expect_value_error([&] { ad::nn::load_idx_split(dir_.string(), "train"); }, {"holds 3 images", "holds 2 labels"});
}

TEST_F(IdxTest, SplitWithAMissingFileNamesIt) {
  write_plain("train-images-idx3-ubyte", three_images());
  expect_value_error([&] { ad::nn::load_idx_split(dir_.string(), "train"); },
                     {"load_idx_split", "train-labels-idx1-ubyte", dir_.string()});
}

TEST_F(IdxTest, MissingFileThrows) {
  std::string path = (dir_ / "nope.gz").string();
  expect_value_error([&] { ad::nn::read_idx_images(path); }, {"read_idx_images", "cannot open", path});
  expect_value_error([&] { ad::nn::read_idx_labels(path); }, {"read_idx_labels", "cannot open", path});
}

TEST_F(IdxTest, TruncatedHeaderThrows) {
  std::string path = write_plain("img", {0, 0, 8});
  expect_value_error([&] { ad::nn::read_idx_images(path); }, {"truncated", "IDX header", path});
  path = write_plain("img2", {0, 0, 8, 3, 0, 0, 0, 3});
  expect_value_error([&] { ad::nn::read_idx_images(path); }, {"truncated", "IDX dims"});
}

TEST_F(IdxTest, TruncatedDataThrows) {
  Bytes b = three_images();
  b.resize(b.size() - 1);
  std::string path = write_plain("img", b);
  expect_value_error([&] { ad::nn::read_idx_images(path); }, {"truncated", "(3, 2, 3)", "needs 18 bytes"});
  std::string gz = write_gz("img.gz", b);
  expect_value_error([&] { ad::nn::read_idx_images(gz); }, {"truncated", "(3, 2, 3)"});
}

TEST_F(IdxTest, WrongMagicThrows) {
  std::string labels = write_plain("lab", idx_bytes({3}, {1, 2, 3}));
  expect_value_error([&] { ad::nn::read_idx_images(labels); },
                     {"not an IDX images file", "magic 0x00000801", "expected 0x00000803"});
  std::string images = write_plain("img", three_images());
  expect_value_error([&] { ad::nn::read_idx_labels(images); }, {"not an IDX labels file", "magic 0x00000803"});
  std::string floats = write_plain("flt", idx_bytes({1, 1, 1}, {0, 0, 0, 0}, 0x0D));
  expect_value_error([&] { ad::nn::read_idx_images(floats); }, {"magic 0x00000d03"});
  std::string text = write_plain("txt", Bytes{'h', 'e', 'l', 'l', 'o', '\n'});
  expect_value_error([&] { ad::nn::read_idx_images(text); }, {"not an IDX images file"});
}

TEST_F(IdxTest, DimsThatDoNotMatchTheSizeThrow) {
  Bytes b = three_images();
  b.push_back(0);
  std::string path = write_plain("img", b);
  expect_value_error([&] { ad::nn::read_idx_images(path); }, {"dims (3, 2, 3) don't match the size"});
  std::string labels = write_gz("lab.gz", idx_bytes({2}, {1, 2, 3}));
  expect_value_error([&] { ad::nn::read_idx_labels(labels); }, {"dims (2) don't match the size"});
  std::string empty_images = write_plain("zero", idx_bytes({2, 0, 28}, {}));
  expect_value_error([&] { ad::nn::read_idx_images(empty_images); }, {"corrupt", "0×28"});
}

TEST_F(IdxTest, LabelOutOfRangeThrows) {
  std::string path = write_gz("lab.gz", idx_bytes({4}, {3, 0, 10, 1}));
  expect_value_error([&] { ad::nn::read_idx_labels(path); }, {"label 10 at index 2", "out of range [0, 10)"});
  EXPECT_EQ(ad::nn::read_idx_labels(path, 11).at(2), 10);
  expect_value_error([&] { ad::nn::read_idx_labels(path, 3); }, {"label 3 at index 0", "[0, 3)"});
}

TEST_F(IdxTest, CorruptGzipThrows) {
  // a gzip magic followed by garbage: zlib rejects the deflate stream
  std::string garbage = write_plain("bad.gz", {0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 0x03, 0xff, 0xff, 0xff, 0xff,
                                               0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
  expect_value_error([&] { ad::nn::read_idx_images(garbage); }, {"read_idx_images", garbage});

  // a good gzip file cut in half: the stream ends early
  Bytes big;
  for (int i = 0; i < 4000; ++i) big.push_back(static_cast<unsigned char>((i * 7919) % 251));
  Bytes gz = read_back(write_gz("full.gz", idx_bytes({1000, 2, 2}, big)));
  ASSERT_GT(gz.size(), 100u);
  gz.resize(gz.size() / 2);
  std::string cut = write_plain("cut.gz", gz);
  expect_value_error([&] { ad::nn::read_idx_images(cut); }, {"read_idx_images", cut});
}

}  // namespace
