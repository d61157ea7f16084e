// The bad-input table of files: loading the wrong thing, writing where one cannot, names that
// are not paths, headers that lie. Each row names the ad::Error subclass its misuse throws and
// the words its message holds (the path, and what is wrong); the crafted files are written here.
// The strict safetensors rules have their own tests in safetensors_strict_test.cpp.
#include <gtest/gtest.h>

#include <nn/nn.hpp>
#include <string>
#include <vector>

#include "bad_input.hpp"

namespace {

using ad::DType;
using ad::Tensor;
using namespace bad_input;
namespace nn = ad::nn;
namespace optim = ad::optim;

// The scratch directory of this table, with a directory and a plain file to aim at.
struct Files : ScratchDir {
  Files() : ScratchDir("tapegrad_bad_files") {
    fs::create_directories(dir / "a_directory.safetensors");
    bytes("not_a_dir", "plain file");
  }
  std::string safetensors_file(const std::string& name, const std::string& header, const std::string& data,
                               uint64_t claimed_len = 0) const {
    return bytes(name, safetensors_bytes(header, data, claimed_len));
  }
};

const Files& files() {
  static Files f;
  return f;
}

void load_net(const std::string& path) {
  nn::Sequential net = net_2_4_1();
  nn::load(net, path);
}

void save_net(const std::string& path) {
  nn::Sequential net = net_2_4_1();
  nn::save(net, path);
}

// A saved 2-4-1 network of `dtype`.
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

Tensor m23() { return ad::ones({2, 3}); }

std::vector<Row> file_rows() {
  const Files& f = files();
  return {
      // ---- files: loading the wrong thing, writing where one cannot
      {"load: no such file", Kind::Value, {"nope.safetensors", "no such file"},
       [&f] { load_net(f.path("nope.safetensors")); }},
      {"load: a directory", Kind::Value, {"a_directory.safetensors", "is a directory"},
       [&f] { load_net(f.path("a_directory.safetensors")); }},
      {"load: 3 bytes", Kind::Value, {"3 bytes", "too short"},
       [&f] { load_net(f.bytes("three.safetensors", "abc")); }},
      {"load: header length larger than the file", Kind::Value, {"header length 4096", "exceeds"},
       [&f] { load_net(f.safetensors_file("long_header.safetensors", "{}", "", 4096)); }},
      {"load: header not JSON", Kind::Value, {"not valid JSON"},
       [&f] { load_net(f.safetensors_file("bad_json.safetensors", "{\"W1\": {\"dtype\"", "")); }},
      {"load: header not an object", Kind::Value, {"not a JSON object"},
       [&f] { load_net(f.safetensors_file("array.safetensors", "[1, 2]  ", "")); }},
      {"load: tensor larger than the data", Kind::Value, {"W1", "larger than the file"},
       [&f] {
         load_net(f.safetensors_file("cut.safetensors", R"({"W1":{"dtype":"F32","shape":[4,2],"data_offsets":[0,32]}})",
                                     "12345678"));
       }},
      {"load: offsets past the end of the data", Kind::Value, {"W1", "[4, 8]", "outside the 4 data bytes", "truncated"},
       [&f] {
         load_net(f.safetensors_file("past.safetensors", R"({"W1":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                                     "1234"));
       }},
      {"load: a shape size past int64 beside a zero", Kind::Value, {"'e'", "shape size 9223372036854775809", "too large"},
       [&f] {
         (void)nn::read_safetensors(f.safetensors_file(
             "huge_dim.safetensors", R"({"e":{"dtype":"F32","shape":[0,9223372036854775809],"data_offsets":[0,0]}})", ""));
       }},
      {"load: unsupported dtype", Kind::Value, {"W1", "I32", "F32, F64 and I64"},
       [&f] {
         load_net(f.safetensors_file("i32.safetensors", R"({"W1":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}})",
                                     "1234"));
       }},
      {"load: offsets disagree with the shape", Kind::Value, {"W1", "span 4 bytes", "needs 8"},
       [&f] {
         load_net(f.safetensors_file("span.safetensors", R"({"W1":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})",
                                     "12345678"));
       }},
      {"load: a file of other names", Kind::Value, {"no tensor 'W1'", "the file has: weight"},
       [] { load_net(saved_tensors("names.safetensors", {{"weight", ad::ones({4, 2})}})); }},
      {"load: W1 of another shape", Kind::Value, {"'W1'", "(3, 2) in the file", "(4, 2)"},
       [] {
         nn::Sequential other;
         other.add(nn::Linear(2, 3)).add(nn::Linear(3, 1));
         nn::save(other, files().path("shape.safetensors"));
         load_net(files().path("shape.safetensors"));
       }},
      {"load: F64 file into an F32 model", Kind::Value, {"'W1'", "F64 in the file", "F32"},
       [] { load_net(saved_net("f64.safetensors", DType::f64)); }},
      {"load with an optimizer: a plain model file", Kind::Value, {"no tensor 'adam.m.W1'"},
       [] {
         auto net = net_2_4_1();
         optim::Adam adam(net.parameters(), 0.1);
         nn::load(net, adam, saved_net("plain.safetensors"));
       }},
      {"save: the parent is a file", Kind::Value, {"cannot create a temporary file", "Not a directory"},
       [&f] { save_net(f.path("not_a_dir") + "/model.safetensors"); }},
      {"save: the parent does not exist", Kind::Value, {"cannot create a temporary file", "No such file"},
       [&f] { save_net(f.path("missing_dir/model.safetensors")); }},
      {"save: the path is a directory", Kind::Value, {"a_directory.safetensors", "cannot replace"},
       [&f] { save_net(f.path("a_directory.safetensors")); }},
      {"write_safetensors: a repeated name", Kind::Usage, {"write_safetensors", "'x'", "repeated"},
       [&f] { nn::write_safetensors(f.path("dup.safetensors"), {{"x", m23()}, {"x", m23()}}); }},
      {"save: an empty path", Kind::Value, {"the path is empty"}, [] { save_net(""); }},
      {"load: an empty path", Kind::Value, {"the path is empty"}, [] { load_net(""); }},
      {"load: a path with a NUL byte", Kind::Value, {"NUL"},
       [] { load_net(saved_net("nul.safetensors") + std::string(1, '\0') + "ignored"); }},
      {"save: a path ending in a slash", Kind::Value, {"names a directory"}, [&f] { save_net(f.path("dir/")); }},
      {"write_safetensors: a name that is not UTF-8", Kind::Value,
       {"write_safetensors", "tensor name", "not valid UTF-8", "W\xEF\xBF\xBD"},
       [&f] { nn::write_safetensors(f.path("latin1.safetensors"), {{"W\xe9", m23()}}); }},
      {"write_safetensors: metadata that is not UTF-8", Kind::Value, {"metadata 'note' =", "not valid UTF-8"},
       [&f] { nn::write_safetensors(f.path("latin1_meta.safetensors"), {{"x", m23()}}, {{"note", "caf\xe9"}}); }},
      {"write_safetensors: a metadata key that is not UTF-8", Kind::Value, {"metadata key", "not valid UTF-8"},
       [&f] { nn::write_safetensors(f.path("latin1_key.safetensors"), {{"x", m23()}}, {{"k\xff", "v"}}); }},
      // ---- IDX files
      {"IDX: no such file", Kind::Value, {"read_idx_images", "no such file"},
       [&f] { (void)nn::read_idx_images(f.path("nope-idx3-ubyte")); }},
      {"IDX: wrong magic", Kind::Value, {"read_idx_images", "not an IDX images file", "0x00000801"},
       [] { (void)nn::read_idx_images(idx_bytes("labels-as-images", be32(0x801) + be32(0))); }},
      {"IDX: truncated pixels", Kind::Value, {"read_idx_images", "truncated", "(2, 2, 2)"},
       [] { (void)nn::read_idx_images(idx_bytes("short-images", be32(0x803) + be32(2) + be32(2) + be32(2) + "abc")); }},
      {"IDX: 4294967295 images announced by a 20-byte file", Kind::Value,
       {"declares dims (4294967295, 1, 1)", "more than the 1073741824 bytes"},
       [] { (void)nn::read_idx_images(idx_bytes("lying-images", be32(0x803) + be32(0xffffffffu) + be32(1) + be32(1) + "abcd")); }},
      {"IDX: 2^30 + 1 bytes of labels declared", Kind::Value, {"read_idx_labels", "(1073741825)", "more than"},
       [] { (void)nn::read_idx_labels(idx_bytes("many-labels", be32(0x801) + be32((1u << 30) + 1))); }},
      {"IDX: plain file shorter than its dims", Kind::Value, {"truncated", "needs 1000 bytes", "holds 2"},
       [] { (void)nn::read_idx_labels(idx_bytes("short-labels", be32(0x801) + be32(1000) + "\x01\x02")); }},
      {"IDX: plain file longer than its dims", Kind::Value, {"dims (2) don't match the size", "1 more bytes"},
       [] { (void)nn::read_idx_labels(idx_bytes("long-labels", be32(0x801) + be32(2) + "\x01\x02\x03")); }},
      {"IDX: label out of range", Kind::Value, {"read_idx_labels", "label 12", "[0, 10)"},
       [] { (void)nn::read_idx_labels(idx_bytes("bad-labels", be32(0x801) + be32(2) + std::string("\x01\x0c", 2))); }},
      {"IDX: a directory", Kind::Value, {"read_idx_labels", "a_directory"},
       [&f] { (void)nn::read_idx_labels(f.path("a_directory.safetensors")); }},
  };
}

TEST(BadInput, FileMisuseThrowsAReadableError) { run_table(file_rows(), 35); }

TEST(BadInput, NonUtf8NamesAreRefusedBeforeAnyWrite) {
  const std::string path = files().path("never_written.safetensors");
  EXPECT_THROW(nn::write_safetensors(path, {{"ok", m23()}, {"bad\xc3", m23()}}), ad::ValueError);
  for (const auto& e : fs::directory_iterator(files().dir))
    EXPECT_EQ(e.path().filename().string().find("never_written"), std::string::npos) << e.path();
}

}  // namespace
