// safetensors save/load: bit-exact round trips, a file written byte by byte here, optimizer
// state, and every way a file can be wrong.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include <nn/nn.hpp>

#include "test_util.hpp"

namespace {

using namespace ad;
namespace fs = std::filesystem;
using nn_test::expect_error;

class Safetensors : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tapegrad_st_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "_" +
            std::to_string(::getpid()));  // other runs of the suite may share the machine
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string write_bytes(const std::string& name, const std::string& bytes) const {
    std::ofstream(path(name), std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return path(name);
  }
  static std::string read_bytes(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }
  // A file per the format: 8-byte little-endian header length, the JSON header, the data.
  static std::string file_bytes(const std::string& header, const std::string& data) {
    std::string out;
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((header.size() >> (8 * i)) & 0xff));
    return out + header + data;
  }
  template <class T>
  static std::string raw(const std::vector<T>& v) {
    return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
  }
  fs::path dir_;
};

nn::Sequential net_2_4_1(DType dtype) {
  nn::Sequential net;
  net.add(nn::Linear(2, 4, nn::Init::Xavier, dtype)).add(nn::Tanh()).add(nn::Linear(4, 1, nn::Init::Xavier, dtype));
  return net;
}

void expect_same_bits(nn::Module& a, nn::Module& b) {
  auto pa = a.named_parameters(), pb = b.named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t i = 0; i < pa.size(); ++i) {
    EXPECT_EQ(pa[i].first, pb[i].first);
    const size_t bytes = static_cast<size_t>(pa[i].second.numel()) * dtype_size(pa[i].second.dtype());
    EXPECT_EQ(std::memcmp(pa[i].second.raw_data(), pb[i].second.raw_data(), bytes), 0) << pa[i].first;
  }
}

TEST_F(Safetensors, RoundTripIsBitExactInBothDtypes) {
  for (DType dtype : {DType::f32, DType::f64}) {
    manual_seed(1);
    nn::Sequential a = net_2_4_1(dtype);
    manual_seed(2);
    nn::Sequential b = net_2_4_1(dtype);
    nn::save(a, path("m.safetensors"));
    nn::load(b, path("m.safetensors"));
    expect_same_bits(a, b);
    EXPECT_TRUE(b.named_parameters()[0].second.requires_grad());
  }
}

TEST_F(Safetensors, WrittenFileFollowsTheFormat) {
  nn::Sequential a = net_2_4_1(DType::f32);
  nn::save(a, path("m.safetensors"));
  const std::string bytes = read_bytes(path("m.safetensors"));
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  EXPECT_EQ(n % 8, 0u) << "data starts 8-byte aligned";
  const std::string header = bytes.substr(8, n);
  EXPECT_NE(header.find(R"("W1":{"data_offsets":[0,32],"dtype":"F32","shape":[4,2]})"), std::string::npos) << header;
  EXPECT_EQ(bytes.size(), 8 + n + (8 + 4 + 4 + 1) * 4);
  float w0 = 0;
  std::memcpy(&w0, bytes.data() + 8 + n, 4);
  EXPECT_EQ(w0, a.named_parameters()[0].second.to_vector()[0]);
  for (const auto& e : fs::directory_iterator(dir_)) EXPECT_EQ(e.path().filename(), "m.safetensors") << "no temp left";
}

TEST_F(Safetensors, LoadsAFileWrittenByHand) {
  // Linear(1, 2) in float64: W1 (2, 1) = (1.5, −2), b1 (2, 1) = (0.25, 4), with metadata
  const std::string header =
      R"({"__metadata__":{"format":"pt"},"W1":{"dtype":"F64","shape":[2,1],"data_offsets":[0,16]},)"
      R"("b1":{"dtype":"F64","shape":[2,1],"data_offsets":[16,32]}})";
  const std::string p = write_bytes("hand.safetensors", file_bytes(header, raw<double>({1.5, -2, 0.25, 4})));
  nn::Linear lin(1, 2, nn::Init::Zeros, DType::f64);
  nn::load(lin, p);
  EXPECT_EQ(lin.W.to_vector(), (std::vector<double>{1.5, -2}));
  EXPECT_EQ(lin.b.to_vector(), (std::vector<double>{0.25, 4}));
  EXPECT_EQ(nn::read_safetensors(p).metadata.at("format"), "pt");
  EXPECT_EQ(lin.forward(tensor({2}, {1, 1}, DType::f64)).to_vector(), (std::vector<double>{3.25, 0}));
}

// int64 tensors (labels, indices) are written as I64 and read back exactly.
TEST_F(Safetensors, Int64TensorsRoundTripAsI64) {
  const std::string p = path("labels.safetensors");
  Tensor labels = tensor({3, 0, -7, 9007199254740992.0}, {2, 2}, DType::i64);
  nn::write_safetensors(p, {{"labels", labels}});
  EXPECT_NE(read_bytes(p).find(R"("dtype":"I64")"), std::string::npos);
  Tensor back = nn::read_safetensors(p).find("labels");
  EXPECT_EQ(back.dtype(), DType::i64);
  EXPECT_EQ(back.shape(), Shape({2, 2}));
  EXPECT_EQ(std::memcmp(back.data<int64_t>(), labels.data<int64_t>(), 4 * sizeof(int64_t)), 0);
}

TEST_F(Safetensors, EveryBadFileThrowsNamingTheProblem) {
  nn::Linear lin(1, 2, nn::Init::Zeros, DType::f64);
  const std::string w = R"("W1":{"dtype":"F64","shape":[2,1],"data_offsets":[0,16]})";
  const std::string b = R"("b1":{"dtype":"F64","shape":[2,1],"data_offsets":[16,32]})";
  const std::string data = raw<double>({1, 2, 3, 4});
  auto bad = [&](const std::string& name, const std::string& bytes, const std::vector<std::string>& parts) {
    SCOPED_TRACE(name);
    expect_error<Error>([&] { nn::load(lin, write_bytes(name, bytes)); }, parts);
  };
  expect_error<ValueError>([&] { nn::load(lin, path("missing.safetensors")); }, {"missing.safetensors", "no such file"});
  expect_error<ValueError>([&] { nn::load(lin, dir_.string()); }, {"is a directory"});
  bad("empty", "", {"0 bytes", "too short"});
  bad("short", "abcde", {"5 bytes", "too short"});
  bad("oversized", file_bytes(std::string(100, ' '), "").substr(0, 8) + "{}", {"header length 100", "exceeds"});
  {
    std::string huge(8, '\xff');
    bad("huge", huge + "{}", {"exceeds"});
  }
  bad("garbage", file_bytes("{not json", data), {"not valid JSON"});
  bad("array", file_bytes("[1, 2]", data), {"not a JSON object"});
  bad("truncated", file_bytes("{" + w + "," + b + "}", data.substr(0, 20)), {"'b1'", "outside", "truncated"});
  bad("f16", file_bytes(R"({"W1":{"dtype":"F16","shape":[2,1],"data_offsets":[0,4]}})", data), {"'W1'", "F16"});
  bad("no offsets", file_bytes(R"({"W1":{"dtype":"F64","shape":[2,1]}})", data), {"'W1'", "data_offsets"});
  bad("span", file_bytes(R"({"W1":{"dtype":"F64","shape":[2,1],"data_offsets":[0,8]}})", data), {"'W1'", "8 bytes", "16"});
  bad("negative", file_bytes(R"({"W1":{"dtype":"F64","shape":[-2,1],"data_offsets":[0,16]}})", data), {"'W1'", "shape"});
  bad("shape overflow",
      file_bytes(R"({"W1":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,16]}})", data),
      {"'W1'", "larger than the file"});
  bad("metadata", file_bytes(R"({"__metadata__":{"a":1}})", data), {"metadata 'a'"});
  bad("missing b1", file_bytes("{" + w + "}", data.substr(0, 16)), {"no tensor 'b1'", "W1"});
  bad("wrong shape",
      file_bytes(R"({"W1":{"dtype":"F64","shape":[1,2],"data_offsets":[0,16]},)" + b + "}", data),
      {"'W1'", "(1, 2) in the file", "(2, 1)"});
  bad("wrong dtype",
      file_bytes(R"({"W1":{"dtype":"F32","shape":[2,1],"data_offsets":[0,8]},)"
                 R"("b1":{"dtype":"F64","shape":[2,1],"data_offsets":[8,24]}})",
                 data.substr(0, 24)),
      {"'W1'", "F32 in the file", "F64"});
  EXPECT_EQ(lin.W.to_vector(), (std::vector<double>{0, 0})) << "a failed load changes nothing";
}

TEST_F(Safetensors, LoadIntoOtherShapesThrowsAndChangesNothing) {
  nn::Sequential a = net_2_4_1(DType::f32);
  nn::save(a, path("a.safetensors"));
  nn::Sequential wider = nn::mlp({3, 4, 1}, nn::Activation::ReLU, nn::Activation::Sigmoid);
  const auto before = wider.named_parameters()[0].second.to_vector();
  expect_error<ValueError>([&] { nn::load(wider, path("a.safetensors")); }, {"'W1'", "(4, 2) in the file", "(4, 3)"});
  EXPECT_EQ(wider.named_parameters()[0].second.to_vector(), before);
  nn::Sequential deeper = nn::mlp({2, 4, 1, 1}, nn::Activation::Tanh, nn::Activation::Identity);
  expect_error<ValueError>([&] { nn::load(deeper, path("a.safetensors")); }, {"no tensor 'W3'"});
  expect_error<ValueError>([&] { nn::save(a, path("no/such/dir/x.safetensors")); }, {"temporary file"});
}

TEST_F(Safetensors, OptimizerStateResumesTrainingExactly) {
  manual_seed(4);
  nn::Dataset d = nn::xor_data(32);
  auto train_steps = [&](nn::Sequential& net, optim::Optimizer& opt, int n) {
    for (int i = 0; i < n; ++i) {
      Tensor J = nn::binary_cross_entropy_with_logits(net.forward(d.X), d.Y);
      opt.zero_grad();
      J.backward();
      opt.step();
    }
  };
  nn::Sequential a = net_2_4_1(DType::f32);
  optim::Adam adam_a(a.parameters(), 0.05);
  train_steps(a, adam_a, 3);
  nn::save(a, adam_a, path("ckpt.safetensors"));
  auto file = nn::read_safetensors(path("ckpt.safetensors"));
  EXPECT_TRUE(file.find("adam.m.W1").defined() && file.find("adam.v.b2").defined());
  EXPECT_EQ(file.metadata.at("adam.steps"), "3");

  nn::Sequential b = net_2_4_1(DType::f32);
  optim::Adam adam_b(b.parameters(), 0.5);
  nn::load(b, adam_b, path("ckpt.safetensors"));
  EXPECT_EQ(adam_b.steps(), 3);
  EXPECT_DOUBLE_EQ(adam_b.learning_rate(), 0.05);
  train_steps(a, adam_a, 2);
  train_steps(b, adam_b, 2);
  expect_same_bits(a, b);  // same parameters, moments and t: the same next steps

  nn::Sequential c = net_2_4_1(DType::f32);
  nn::load(c, path("ckpt.safetensors"));  // a checkpoint also loads as a plain model
  optim::SGD sgd(c.parameters(), 0.1, {.momentum = 0.9});
  expect_error<ValueError>([&] { nn::load(c, sgd, path("ckpt.safetensors")); }, {"no tensor 'sgd.velocity.W1'"});
  optim::SGD stranger({tensor({1}, {1}).requires_grad_()}, 0.1);
  expect_error<UsageError>([&] { nn::save(c, stranger, path("x.safetensors")); }, {"not a parameter of the module"});
}

}  // namespace
