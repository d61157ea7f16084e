// The bad-input table: one row per misuse of the public API (autodiff and nn) outside the ops
// themselves, whose misuses are rows of the op table (tests/autodiff/op_table.hpp). Each row
// names the exception type it must throw and the words its message must hold, so a user reading
// the message learns what is wrong. A second table holds the edge cases that are legal (empty
// tensors, NaN flowing through) and checks their values.
#include <gtest/gtest.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <nn/nn.hpp>
#include <string>
#include <vector>

namespace {

using ad::DType;
using ad::Tensor;
namespace fs = std::filesystem;
namespace nn = ad::nn;
namespace optim = ad::optim;

enum class Kind { Shape, DType, Usage, Value, Anomaly };

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::Shape: return "ShapeError";
    case Kind::DType: return "DTypeError";
    case Kind::Usage: return "UsageError";
    case Kind::Value: return "ValueError";
    case Kind::Anomaly: return "AnomalyError";
  }
  return "?";
}

bool is_kind(const ad::Error& e, Kind k) {
  switch (k) {
    case Kind::Shape: return dynamic_cast<const ad::ShapeError*>(&e) != nullptr;
    case Kind::DType: return dynamic_cast<const ad::DTypeError*>(&e) != nullptr;
    case Kind::Usage: return dynamic_cast<const ad::UsageError*>(&e) != nullptr;
    case Kind::Value: return dynamic_cast<const ad::ValueError*>(&e) != nullptr;
    case Kind::Anomaly: return dynamic_cast<const ad::AnomalyError*>(&e) != nullptr;
  }
  return false;
}

struct Row {
  const char* what;                 // the misuse, for the failure message
  Kind kind;                        // the ad::Error subclass it must throw
  std::vector<std::string> words;   // each must appear in the message
  std::function<void()> call;
};

// A scratch directory with the files the load rows read.
struct Files {
  fs::path dir = fs::temp_directory_path() / ("tapegrad_bad_input_" + std::to_string(::getpid()));
  Files() {
    fs::remove_all(dir);
    fs::create_directories(dir / "a_directory.safetensors");
    bytes("not_a_dir", "plain file");
  }
  ~Files() { fs::remove_all(dir); }
  std::string path(const std::string& name) const { return (dir / name).string(); }
  std::string bytes(const std::string& name, const std::string& content) const {
    std::ofstream(path(name), std::ios::binary).write(content.data(), static_cast<std::streamsize>(content.size()));
    return path(name);
  }
  // A safetensors file: 8-byte little-endian header length, the JSON header, then `data`.
  std::string safetensors(const std::string& name, const std::string& header, const std::string& data,
                          uint64_t claimed_len = 0) const {
    const uint64_t n = claimed_len ? claimed_len : header.size();
    std::string out;
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
    return bytes(name, out + header + data);
  }
};

const Files& files() {
  static Files f;
  return f;
}

nn::Sequential net_2_4_1(DType dtype = DType::f32) {
  nn::Sequential net;
  net.add(nn::Linear(2, 4, nn::Init::Xavier, dtype)).add(nn::Tanh()).add(nn::Linear(4, 1, nn::Init::Xavier, dtype));
  return net;
}

// A saved 2-4-1 network, and a variant saved with W1 of another shape / dtype / name.
std::string saved_net(const std::string& name, DType dtype = DType::f32) {
  nn::Sequential net = net_2_4_1(dtype);
  nn::save(net, files().path(name));
  return files().path(name);
}

std::string saved_tensors(const std::string& name, const std::vector<std::pair<std::string, Tensor>>& t) {
  nn::write_safetensors(files().path(name), t);
  return files().path(name);
}

std::string idx_bytes(const std::string& name, const std::string& content) { return files().bytes(name, content); }

std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>((v >> 16) & 0xff), static_cast<char>((v >> 8) & 0xff),
          static_cast<char>(v & 0xff)};
}

Tensor m23() { return ad::ones({2, 3}); }
Tensor leaf(const ad::Shape& s, DType d = DType::f32) { return ad::ones(s, d).requires_grad_(); }

std::vector<Row> autodiff_rows() {
  return {
      // ---- factories and accessors
      {"tensor: values do not fill the shape", Kind::Shape, {"tensor", "5 values", "(2, 3)"},
       [] { (void)ad::tensor({1, 2, 3, 4, 5}, {2, 3}); }},
      {"zeros with a negative dim", Kind::Value, {"negative dim", "(2, -1)"}, [] { (void)ad::zeros({2, -1}); }},
      {"more than 8 dims", Kind::Shape, {"at most 8 dims"},
       [] { (void)ad::zeros({1, 1, 1, 1, 1, 1, 1, 1, 1}); }},
      {"a shape too large to allocate", Kind::Value, {"too large", "(1099511627776, 1099511627776)"},
       [] { (void)ad::zeros({int64_t{1} << 40, int64_t{1} << 40}); }},
      {"item of a non-scalar", Kind::Shape, {"item", "(2, 3)", "6 elements"}, [] { (void)m23().item(); }},
      {"size(5) of a 2-D tensor", Kind::Shape, {"size", "dim 5", "(2, 3)"}, [] { (void)m23().size(5); }},
      {"data<double> of a float32", Kind::DType, {"data<float64>", "float32"}, [] { (void)m23().data<double>(); }},
      {"shape of an undefined tensor", Kind::Usage, {"undefined"}, [] { (void)Tensor().shape(); }},
      {"requires_grad_ on a recorded output", Kind::Usage, {"requires_grad_", "not a leaf", "detach()"},
       [] { (leaf({2}) * 2.0).requires_grad_(false); }},
      {"set_grad of the wrong shape", Kind::Shape, {"set_grad", "(3,)", "(2,)"},
       [] { leaf({2}).set_grad(ad::ones({3})); }},
      {"set_num_threads(0)", Kind::Value, {"set_num_threads", "at least 1"}, [] { ad::set_num_threads(0); }},
      // ---- backward misuse
      {"backward twice", Kind::Usage, {"backward", "already freed", "retain_graph"},
       [] {
         Tensor x = leaf({2});
         Tensor J = ad::sum(ad::exp(x));
         J.backward();
         J.backward();
       }},
      {"backward of a non-scalar without a seed", Kind::Usage, {"backward", "(2, 3)", "not a scalar", "seed"},
       [] { (leaf({2, 3}) * 2.0).backward(); }},
      {"backward of a tensor that needs no grad", Kind::Usage, {"backward", "does not require grad"},
       [] { ad::sum(m23()).backward(); }},
      {"backward after detach", Kind::Usage, {"backward", "does not require grad", "detached"},
       [] { ad::sum(leaf({2}) * 2.0).detach().backward(); }},
      {"backward under NoGradGuard's output", Kind::Usage, {"backward", "NoGradGuard"},
       [] {
         Tensor x = leaf({2});
         Tensor J;
         {
           ad::NoGradGuard off;
           J = ad::sum(x * x);
         }
         J.backward();
       }},
      {"backward with a seed of another shape", Kind::Shape, {"backward", "seed is (3,)", "output is (2,)"},
       [] { (leaf({2}) * 2.0).backward(ad::ones({3})); }},
      {"backward with a seed of another dtype", Kind::DType, {"backward", "float64", "float32"},
       [] { (leaf({2}) * 2.0).backward(ad::ones({2}, DType::f64)); }},
      {"grad of an input that needs no grad", Kind::Usage, {"grad", "input 0", "does not require grad"},
       [] {
         Tensor x = leaf({2});
         (void)ad::grad({ad::sum(x * x)}, {m23()});
       }},
      {"grad with no outputs", Kind::Usage, {"grad", "no outputs"}, [] { (void)ad::grad({}, {leaf({2})}); }},
      {"grad with too many seeds", Kind::Usage, {"grad", "1 outputs but 2 seeds"},
       [] {
         Tensor x = leaf({2});
         (void)ad::grad({ad::sum(x)}, {x}, {ad::scalar(1.0), ad::scalar(1.0)});
       }},
      {"gradcheck: nothing requires grad", Kind::Usage, {"gradcheck", "requires_grad_"},
       [] { (void)ad::gradcheck([](const std::vector<Tensor>& v) { return ad::sum(v[0]); }, {ad::ones({2}, DType::f64)}); }},
      {"NaN input under anomaly detection", Kind::Anomaly, {"'exp'", "already holds NaN at [1]"},
       [] {
         ad::DetectAnomalyGuard on;
         (void)ad::exp(ad::tensor({0.0, std::nan("")}, {2}).requires_grad_());
       }},
  };
}

std::vector<Row> nn_rows() {
  const Files& f = files();
  return {
      // ---- layers, costs and metrics, errors in the notation
      {"Linear: A0 has the wrong number of rows", Kind::Shape, {"layer 1", "W1 is (4, 2)", "A0 has 3 rows", "n[0] = 2"},
       [] { nn::Linear(2, 4)(ad::ones({3, 5})); }},
      {"Sequential: layer 2 gets the wrong rows", Kind::Shape, {"layer 2", "W2 is (1, 3)", "A1 has 4 rows"},
       [] {
         nn::Sequential net;
         net.add(nn::Linear(2, 4)).add(nn::ReLU()).add(nn::Linear(3, 1));
         (void)net.forward(ad::ones({2, 5}));
       }},
      {"Linear: a 1-D input", Kind::Shape, {"layer 1", "A0 is (2,)", "2-D", "samples as columns"},
       [] { nn::Linear(2, 4)(ad::ones({2})); }},
      {"Linear: f64 input to an f32 layer", Kind::DType, {"layer 1", "float32", "float64", "to(DType)"},
       [] { nn::Linear(2, 4)(ad::ones({2, 5}, DType::f64)); }},
      {"mlp with one size", Kind::Value, {"mlp", "layer_dims has 1 entries"},
       [] { (void)nn::mlp({4}, nn::Activation::ReLU, nn::Activation::Sigmoid); }},
      {"mlp with a zero layer", Kind::Value, {"mlp", "n[1] = 0"},
       [] { (void)nn::mlp({4, 0, 1}, nn::Activation::ReLU, nn::Activation::Sigmoid); }},
      {"binary_cross_entropy shapes", Kind::Shape, {"binary_cross_entropy", "(1, 5)", "(1, 4)"},
       [] { (void)nn::binary_cross_entropy(ad::full({1, 5}, 0.5), ad::ones({1, 4})); }},
      {"softmax_cross_entropy: a label out of range", Kind::Value, {"3", "[0, 3)"},
       [] { (void)nn::softmax_cross_entropy(ad::ones({3, 2}), std::vector<int64_t>{0, 3}); }},
      {"one_hot: C = 0", Kind::Value, {"one_hot", "C = 0"}, [] { (void)nn::one_hot({0}, 0); }},
      {"accuracy: different m", Kind::Shape, {"accuracy", "(1, 4)", "(1, 3)"},
       [] { (void)nn::accuracy(ad::full({1, 4}, 0.7), ad::ones({1, 3})); }},
      {"MiniBatches: batch_size 0", Kind::Value, {"batch_size = 0"},
       [] { (void)nn::random_mini_batches(ad::ones({2, 8}), ad::ones({1, 8}), 0); }},
      {"gather_columns: column out of range", Kind::Value, {"gather_columns", "column 9", "[0, 3)"},
       [] { (void)nn::gather_columns(m23(), {9}); }},
      {"gather_samples: sample out of range", Kind::Value, {"gather_samples", "sample 3", "[0, 2)"},
       [] { (void)nn::gather_samples(m23(), {3}); }},
      {"Dropout keep_prob 0", Kind::Value, {"Dropout", "keep_prob"}, [] { nn::Dropout d(0.0); }},
      // ---- optimizers
      {"optimizer over an empty parameter list", Kind::Usage, {"SGD", "no parameters"},
       [] { optim::SGD sgd({}, 0.1); }},
      {"optimizer over a model without parameters", Kind::Usage, {"Adam", "no parameters"},
       [] {
         nn::Sequential only_activations;
         only_activations.add(nn::ReLU());
         optim::Adam adam(only_activations.parameters(), 0.1);
       }},
      {"optimizer: a parameter that needs no grad", Kind::Usage, {"SGD", "parameter 0", "requires_grad_"},
       [] { optim::SGD sgd({m23()}, 0.1); }},
      {"optimizer: NaN learning rate", Kind::Value, {"RMSprop", "learning rate nan"},
       [] { optim::RMSprop r({leaf({2})}, std::nan("")); }},
      {"optimizer: negative learning rate", Kind::Value, {"SGD", "learning rate -1"}, [] { optim::SGD s({leaf({2})}, -1); }},
      // ---- files: loading the wrong thing, writing where one cannot
      {"load: no such file", Kind::Value, {"nope.safetensors", "no such file"},
       [&f] {
         auto net = net_2_4_1();
         nn::load(net, f.path("nope.safetensors"));
       }},
      {"load: a directory", Kind::Value, {"a_directory.safetensors", "is a directory"},
       [&f] {
         auto net = net_2_4_1();
         nn::load(net, f.path("a_directory.safetensors"));
       }},
      {"load: 3 bytes", Kind::Value, {"3 bytes", "too short"},
       [&f] {
         auto net = net_2_4_1();
         nn::load(net, f.bytes("three.safetensors", "abc"));
       }},
      {"load: header length larger than the file", Kind::Value, {"header length 4096", "exceeds"},
       [&f] {
         auto net = net_2_4_1();
         nn::load(net, f.safetensors("long_header.safetensors", "{}", "", 4096));
       }},
      {"load: header not JSON", Kind::Value, {"not valid JSON"},
       [&f] {
         auto net = net_2_4_1();
         nn::load(net, f.safetensors("bad_json.safetensors", "{\"W1\": [", ""));
       }},
      {"load: header not an object", Kind::Value, {"not a JSON object"},
       [&f] {
         auto net = net_2_4_1();
         nn::load(net, f.safetensors("array.safetensors", "[1, 2]  ", ""));
       }},
      {"load: tensor larger than the data", Kind::Value, {"W1", "larger than the file"},
       [&f] {
         auto net = net_2_4_1();
         nn::load(net, f.safetensors("cut.safetensors",
                                     R"({"W1":{"dtype":"F32","shape":[4,2],"data_offsets":[0,32]}})", "12345678"));
       }},
      {"load: offsets past the end of the data", Kind::Value, {"W1", "[4, 8]", "outside the 4 data bytes", "truncated"},
       [&f] {
         auto net = net_2_4_1();
         nn::load(net, f.safetensors("past.safetensors", R"({"W1":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                                     "1234"));
       }},
      {"load: a shape size past int64 beside a zero", Kind::Value, {"'e'", "shape size 9223372036854775809", "too large"},
       [&f] {
         (void)nn::read_safetensors(f.safetensors(
             "huge_dim.safetensors", R"({"e":{"dtype":"F32","shape":[0,9223372036854775809],"data_offsets":[0,0]}})", ""));
       }},
      {"load: unsupported dtype", Kind::Value, {"W1", "I32", "F32, F64 and I64"},
       [&f] {
         auto net = net_2_4_1();
         nn::load(net, f.safetensors("i32.safetensors", R"({"W1":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}})",
                                     "1234"));
       }},
      {"load: offsets disagree with the shape", Kind::Value, {"W1", "span 4 bytes", "needs 8"},
       [&f] {
         auto net = net_2_4_1();
         nn::load(net, f.safetensors("span.safetensors", R"({"W1":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})",
                                     "12345678"));
       }},
      {"load: a file of other names", Kind::Value, {"no tensor 'W1'", "the file has: weight"},
       [] {
         auto net = net_2_4_1();
         nn::load(net, saved_tensors("names.safetensors", {{"weight", ad::ones({4, 2})}}));
       }},
      {"load: W1 of another shape", Kind::Value, {"'W1'", "(3, 2) in the file", "(4, 2)"},
       [] {
         nn::Sequential other;
         other.add(nn::Linear(2, 3)).add(nn::Linear(3, 1));
         nn::save(other, files().path("shape.safetensors"));
         auto net = net_2_4_1();
         nn::load(net, files().path("shape.safetensors"));
       }},
      {"load: F64 file into an F32 model", Kind::Value, {"'W1'", "F64 in the file", "F32"},
       [] {
         auto net = net_2_4_1(DType::f32);
         nn::load(net, saved_net("f64.safetensors", DType::f64));
       }},
      {"load with an optimizer: a plain model file", Kind::Value, {"no tensor 'adam.m.W1'"},
       [] {
         auto net = net_2_4_1();
         optim::Adam adam(net.parameters(), 0.1);
         nn::load(net, adam, saved_net("plain.safetensors"));
       }},
      {"save: the parent is a file", Kind::Value, {"cannot create a temporary file", "Not a directory"},
       [&f] {
         auto net = net_2_4_1();
         nn::save(net, f.path("not_a_dir") + "/model.safetensors");
       }},
      {"save: the parent does not exist", Kind::Value, {"cannot create a temporary file", "No such file"},
       [&f] {
         auto net = net_2_4_1();
         nn::save(net, f.path("missing_dir/model.safetensors"));
       }},
      {"save: the path is a directory", Kind::Value, {"a_directory.safetensors", "cannot replace"},
       [&f] {
         auto net = net_2_4_1();
         nn::save(net, f.path("a_directory.safetensors"));
       }},
      {"write_safetensors: a repeated name", Kind::Usage, {"write_safetensors", "'x'", "repeated"},
       [&f] { nn::write_safetensors(f.path("dup.safetensors"), {{"x", m23()}, {"x", m23()}}); }},
      // ---- IDX files
      {"IDX: no such file", Kind::Value, {"read_idx_images", "no such file"},
       [&f] { (void)nn::read_idx_images(f.path("nope-idx3-ubyte")); }},
      {"IDX: wrong magic", Kind::Value, {"read_idx_images", "not an IDX images file", "0x00000801"},
       [] { (void)nn::read_idx_images(idx_bytes("labels-as-images", be32(0x801) + be32(0))); }},
      {"IDX: truncated pixels", Kind::Value, {"read_idx_images", "truncated", "(2, 2, 2)"},
       [] { (void)nn::read_idx_images(idx_bytes("short-images", be32(0x803) + be32(2) + be32(2) + be32(2) + "abc")); }},
      {"IDX: 4294967295 images announced by a 20-byte file", Kind::Value, {"truncated", "needs 4294967295 bytes"},
       [] { (void)nn::read_idx_images(idx_bytes("lying-images", be32(0x803) + be32(0xffffffffu) + be32(1) + be32(1) + "abcd")); }},
      {"IDX: label out of range", Kind::Value, {"read_idx_labels", "label 12", "[0, 10)"},
       [] { (void)nn::read_idx_labels(idx_bytes("bad-labels", be32(0x801) + be32(2) + std::string("\x01\x0c", 2))); }},
      {"IDX: a directory", Kind::Value, {"read_idx_labels", "a_directory"},
       [&f] { (void)nn::read_idx_labels(f.path("a_directory.safetensors")); }},
  };
}

std::string check(const Row& r) {
  try {
    r.call();
  } catch (const ad::Error& e) {
    const std::string msg = e.what();
    std::string out;
    if (!is_kind(e, r.kind)) out += fmt::format("expected {}, got another ad::Error; ", kind_name(r.kind));
    for (const std::string& w : r.words)
      if (msg.find(w) == std::string::npos) out += fmt::format("no '{}'; ", w);
    return out.empty() ? "" : out + "message: " + msg;
  } catch (const std::exception& e) {
    return fmt::format("threw a non-ad::Error: {}", e.what());
  }
  return "threw nothing";
}

void run_table(const std::vector<Row>& rows, size_t at_least) {
  EXPECT_GE(rows.size(), at_least);
  for (const Row& r : rows) {
    const std::string problem = check(r);
    EXPECT_TRUE(problem.empty()) << r.what << ": " << problem;
  }
  std::printf("[ table    ] %zu misuse rows\n", rows.size());
}

TEST(BadInput, AutodiffMisuseThrowsAReadableError) { run_table(autodiff_rows(), 20); }

TEST(BadInput, NnMisuseThrowsAReadableError) { run_table(nn_rows(), 35); }

TEST(BadInput, TheTablesLeaveNoRecordsBehind) {
  const size_t before = ad::tape_size();
  for (const Row& r : autodiff_rows()) (void)check(r);
  EXPECT_EQ(ad::tape_size(), before);  // every throwing call released what it recorded
}

}  // namespace

// ---- the legal edge cases: they work and give the right values ----------------------------
namespace {

TEST(EdgeCases, EmptyTensorsReduceToTheEmptySum) {
  EXPECT_EQ(ad::sum(ad::ones({0, 3})).item(), 0.0);
  EXPECT_EQ(ad::sum(ad::ones({0, 3}), 0).to_vector(), (std::vector<double>{0, 0, 0}));
  EXPECT_EQ(ad::sum(ad::ones({3, 0}), 1, true).shape(), (ad::Shape{3, 1}));
  EXPECT_EQ(ad::exp(ad::ones({0, 2})).shape(), (ad::Shape{0, 2}));
}

TEST(EdgeCases, MatmulOverEmptyInnerDimIsZeroAndBackprops) {
  Tensor A = leaf({2, 0}, DType::f64), B = leaf({0, 3}, DType::f64);
  Tensor C = ad::matmul(A, B);
  EXPECT_EQ(C.shape(), (ad::Shape{2, 3}));
  EXPECT_EQ(C.to_vector(), std::vector<double>(6, 0.0));
  ad::sum(C).backward();
  EXPECT_EQ(A.grad().shape(), (ad::Shape{2, 0}));
  EXPECT_EQ(B.grad().shape(), (ad::Shape{0, 3}));
}

TEST(EdgeCases, ZeroSamplesFlowThroughALayerAndBroadcast) {
  nn::Linear layer(2, 4);
  Tensor Z = layer(ad::ones({2, 0}));  // m = 0: b (4, 1) broadcasts over no columns
  EXPECT_EQ(Z.shape(), (ad::Shape{4, 0}));
  ad::sum(Z).backward();
  EXPECT_EQ(layer.W.grad().to_vector(), std::vector<double>(8, 0.0));
  EXPECT_EQ(layer.b.grad().to_vector(), std::vector<double>(4, 0.0));
  EXPECT_EQ((ad::ones({0, 3}) + ad::ones({1, 3})).shape(), (ad::Shape{0, 3}));
}

TEST(EdgeCases, ConcatWithAnEmptyPieceKeepsTheOthers) {
  Tensor x = ad::tensor({1, 2, 3, 4}, {2, 2});
  Tensor y = ad::concat({ad::ones({2, 0}), x}, 1);
  EXPECT_EQ(y.shape(), (ad::Shape{2, 2}));
  EXPECT_EQ(y.to_vector(), x.to_vector());
  EXPECT_EQ(ad::slice(x, 1, 1, 1).shape(), (ad::Shape{2, 0}));
}

TEST(EdgeCases, NaNFlowsThroughWhenAnomalyDetectionIsOff) {
  Tensor x = ad::tensor({1.0, std::nan("")}, {2}).requires_grad_();
  Tensor J = ad::sum(x * x);
  EXPECT_TRUE(std::isnan(J.item()));
  J.backward();
  EXPECT_EQ(x.grad().to_vector()[0], 2.0);
  EXPECT_TRUE(std::isnan(x.grad().to_vector()[1]));
}

}  // namespace
