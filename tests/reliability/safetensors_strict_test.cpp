// The safetensors reader accepts exactly what the format allows: files crafted here, one rule
// broken each, are ValueErrors naming the file and the problem, before any value is used (a
// failed load leaves the module as it was); the legal corners of the format load.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <nn/nn.hpp>
#include <string>
#include <vector>

#include "bad_input.hpp"

namespace {

using namespace bad_input;
namespace nn = ad::nn;

// One tensor's header entry.
std::string entry(const std::string& name, const std::string& shape, uint64_t begin, uint64_t end,
                  const std::string& dtype = "F32") {
  return fmt::format(R"("{}":{{"dtype":"{}","shape":[{}],"data_offsets":[{},{}]}})", name, dtype, shape, begin, end);
}

// The 2-4-1 network's four tensors (W1 4×2, b1 4×1, W2 1×4, b2 1×1, float32) in a header, with
// `extra` entries appended, and their 68 data bytes.
std::string net_header(const std::string& extra = "") {
  return "{" + entry("W1", "4,2", 0, 32) + "," + entry("b1", "4,1", 32, 48) + "," + entry("W2", "1,4", 48, 64) + "," +
         entry("b2", "1,1", 64, 68) + extra + "}";
}
const std::string kNetData(68, '\x01');

struct Crafted {
  const char* cls;                 // the rule it breaks
  const char* what;
  std::string bytes;               // the whole file
  std::vector<std::string> words;  // in the message, besides the file's path
  bool module_level = false;       // a rule of load(module), not of the format: use load
};

// A valid model file with its header length field off by `delta` bytes.
std::string length_off_by(int delta) {
  std::string header = net_header();
  header.append((8 - header.size() % 8) % 8, ' ');
  return le64(static_cast<uint64_t>(static_cast<int64_t>(header.size()) + delta)) + header + kNetData;
}

std::vector<Crafted> crafted() {
  const std::string good = net_header();
  std::vector<Crafted> c = {
      {"duplicate keys", "a tensor twice", safetensors_bytes(net_header("," + entry("W1", "4,2", 0, 32)), kNetData),
       {"tensor 'W1' appears twice"}},
      {"duplicate keys", "__metadata__ twice",
       safetensors_bytes(R"({"__metadata__":{"a":"1"},"__metadata__":{"b":"2"}})", ""), {"\"__metadata__\" appears twice"}},
      {"duplicate keys", "a field twice",
       safetensors_bytes(R"({"x":{"dtype":"F32","dtype":"F64","shape":[],"data_offsets":[0,4]}})", "abcd"),
       {"'x'", "field 'dtype' twice"}},
      {"duplicate keys", "a metadata key twice", safetensors_bytes(R"({"__metadata__":{"a":"1","a":"2"}})", ""),
       {"metadata 'a' appears twice"}},
      {"overlap", "two ranges overlap",
       safetensors_bytes("{" + entry("a", "2", 0, 8) + "," + entry("b", "2", 4, 12) + "}", std::string(12, 'x')),
       {"'a' [0, 8)", "'b' [4, 12)", "overlap"}},
      {"overlap", "two tensors share one range",
       safetensors_bytes("{" + entry("a", "2", 0, 8) + "," + entry("b", "2", 0, 8) + "}", std::string(8, 'x')),
       {"'a'", "'b'", "overlap"}},
      {"overlap", "an empty tensor inside another's range",
       safetensors_bytes("{" + entry("a", "2", 0, 8) + "," + entry("e", "0", 4, 4) + "}", std::string(8, 'x')),
       {"'e' [4, 4)", "overlap"}},
      {"hole", "a gap between two tensors",
       safetensors_bytes("{" + entry("a", "1", 0, 4) + "," + entry("b", "1", 8, 12) + "}", std::string(12, 'x')),
       {"hole", "bytes [4, 8)", "'a'", "'b'"}},
      {"hole", "ranges that start at 8, not 0", safetensors_bytes("{" + entry("a", "1", 8, 12) + "}", std::string(12, 'x')),
       {"hole", "'a'", "starts at byte 8, not 0"}},
      {"trailing data", "one byte after the last tensor", safetensors_bytes(good, kNetData + "j"),
       {"1 byte of trailing data", "byte 68"}},
      {"trailing data", "4 KiB after the last tensor", safetensors_bytes(good, kNetData + std::string(4096, '\0')),
       {"4096 bytes of trailing data"}},
      {"trailing data", "data but no tensors", safetensors_bytes("{}", "12345678"), {"8 bytes of trailing data"}},
      {"header text", "a UTF-8 byte-order mark", safetensors_bytes("\xEF\xBB\xBF" + good, kNetData),
       {"must begin with '{'", "0xEF", "byte-order mark"}},
      {"header text", "a space before '{'", safetensors_bytes(" " + good, kNetData), {"must begin with '{'", "0x20"}},
      {"header text", "NUL bytes as padding", safetensors_bytes(good + std::string(4, '\0'), kNetData),
       {"NUL byte at offset", "only spaces"}},
      {"header text", "a NUL inside the JSON", safetensors_bytes(R"({"a")" + std::string(1, '\0') + R"(:1})", ""),
       {"NUL byte at offset 4"}},
      {"header text", "a newline as padding", safetensors_bytes(good + "\n   ", kNetData), {"padded with 0x0A"}},
      {"header text", "a second JSON value after the object", safetensors_bytes(good + "{}", kNetData),
       {"not valid JSON"}},
      {"header text", "a header over the format's 100 MB", le64(100'000'001) + "{}",
       {"header length 100000001", "limit of 100000000"}},
      {"header text", "a header length of 2^63", le64(uint64_t{1} << 63) + "{}", {"exceeds the format's limit"}},
      {"entry", "an unknown field", safetensors_bytes(R"({"x":{"dtype":"F32","shape":[],"data_offsets":[0,4],"crc":7}})", "abcd"),
       {"'x'", "field 'crc'"}},
      {"entry", "an entry that is a string", safetensors_bytes(R"({"x":"F32"})", ""), {"tensor 'x' is a string"}},
      {"entry", "a float in the shape", safetensors_bytes(R"({"x":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}})", "abcd"),
       {"'x'", "\"shape\" holds 1.0"}},
      {"entry", "three data offsets",
       safetensors_bytes(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}})", "abcd"), {"[begin, end]"}},
      {"entry", "nine dims", safetensors_bytes(R"({"x":{"dtype":"F32","shape":[1,1,1,1,1,1,1,1,1],"data_offsets":[0,4]}})", "abcd"),
       {"more than 8 sizes"}},
      {"entry", "metadata holding a number", safetensors_bytes(R"({"__metadata__":{"steps":3}})", ""),
       {"metadata 'steps' is a number, not a string"}},
      {"entry", "metadata holding an object", safetensors_bytes(R"({"__metadata__":{"m":{"a":"b"}}})", ""),
       {"metadata 'm' is an object"}},
      {"entry", "invalid UTF-8 in a name", safetensors_bytes("{\"W\xe9\":{}}", ""), {"not valid JSON", "UTF-8"}},
      {"unknown tensors", "a tensor the module does not have",
       safetensors_bytes(net_header("," + entry("extra", "1", 68, 72)), kNetData + "abcd"),
       {"1 tensor the module does not have", "'extra'", "W1, b1, W2, b2"}, true},
      {"unknown tensors", "optimizer-like state with no step count in the metadata",
       safetensors_bytes(net_header("," + entry("adam.m.W1", "4,2", 68, 100)), kNetData + std::string(32, 'm')),
       {"'adam.m.W1'", "does not have"}, true},
      {"unknown tensors", "optimizer state for a parameter the module does not have",
       safetensors_bytes(R"({"__metadata__":{"adam.steps":"1"},)" + net_header("," + entry("adam.m.W9", "1", 68, 72)).substr(1),
                         kNetData + "abcd"),
       {"'adam.m.W9'", "does not have"}, true},
  };
  // Short: the JSON is cut off. Long: the header swallows data bytes, so the data is short.
  const std::vector<std::pair<int, std::vector<std::string>>> off = {
      {-8, {"not valid JSON", "unexpected end of input"}},
      {-3, {"not valid JSON", "unexpected end of input"}},
      {-1, {"not valid JSON", "unexpected end of input"}},
      {1, {"'b2'", "[64, 68]", "outside the 67 data bytes"}},
      {3, {"'b2'", "outside the 65 data bytes"}},
      {8, {"'W2'", "outside the 60 data bytes"}}};
  for (const auto& [delta, words] : off)
    c.push_back({"header length off", "the length field off by a few bytes", length_off_by(delta), words});
  return c;
}

TEST(SafetensorsStrict, EachCraftedFileIsAValueErrorNamingIt) {
  ScratchDir scratch("tapegrad_strict");
  std::map<std::string, int> per_class;
  int i = 0;
  for (const Crafted& c : crafted()) {
    SCOPED_TRACE(std::string(c.cls) + ": " + c.what);
    const std::string path = scratch.bytes("crafted_" + std::to_string(i++) + ".safetensors", c.bytes);
    nn::Sequential net = net_2_4_1();
    const auto before = net.parameters()[0].to_vector();
    try {
      if (c.module_level)
        nn::load(net, path);
      else
        (void)nn::read_safetensors(path);
      ADD_FAILURE() << "accepted";
    } catch (const ad::ValueError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(path), std::string::npos) << msg;
      for (const std::string& w : c.words) EXPECT_NE(msg.find(w), std::string::npos) << "'" << w << "' not in: " << msg;
    }
    if (!c.module_level) {
      EXPECT_THROW(nn::load(net, path), ad::ValueError);
    }
    EXPECT_EQ(net.parameters()[0].to_vector(), before) << "a failed load changed the module";
    ++per_class[c.cls];
  }
  for (const auto& [cls, n] : per_class) std::printf("[ crafted  ] %-18s %d files\n", cls.c_str(), n);
  EXPECT_GE(i, 35);
}

// The format's legal corners: any key order, empty tensors, scalars, no padding or space
// padding, free-form metadata, escaped names; and a checkpoint loads as a plain model.
TEST(SafetensorsStrict, TheLegalCornersOfTheFormatLoad) {
  ScratchDir scratch("tapegrad_strict_legal");
  const std::string header = "{" + entry("s", "", 8, 12) + "," + entry("e", "0,3", 8, 8) + "," +
                             entry("v", "2", 0, 8) + R"(,"__metadata__":{"format":"pt","note":""}})";
  float v[3] = {1.5f, -2.0f, 0.25f};
  std::string data(12, '\0');
  std::memcpy(data.data(), v, 12);
  for (const std::string& padding : {std::string(), std::string(7, ' ')}) {
    const nn::SafetensorsFile f = nn::read_safetensors(scratch.bytes("legal.safetensors", safetensors_bytes(header + padding, data)));
    ASSERT_EQ(f.tensors.size(), 3u);
    EXPECT_EQ(f.tensors[0].first, "v");  // data order
    EXPECT_EQ(f.find("v").to_vector(), (std::vector<double>{1.5, -2.0}));
    EXPECT_EQ(f.find("s").dim(), 0);
    EXPECT_EQ(f.find("s").item(), 0.25);
    EXPECT_EQ(f.find("e").shape(), (ad::Shape{0, 3}));
    EXPECT_EQ(f.metadata.at("format"), "pt");
  }
  const std::string escaped = R"({"\u0057\u0031":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  EXPECT_TRUE(nn::read_safetensors(scratch.bytes("escaped.safetensors", safetensors_bytes(escaped, "abcd"))).find("W1").defined());

  nn::Sequential net = net_2_4_1();
  ad::optim::Adam adam(net.parameters(), 0.01);
  nn::save(net, adam, scratch.path("ckpt.safetensors"));
  nn::Sequential plain = net_2_4_1();
  nn::load(plain, scratch.path("ckpt.safetensors"));  // the Adam state is skipped, as designed
  EXPECT_EQ(plain.parameters()[2].to_vector(), net.parameters()[2].to_vector());
}

}  // namespace
