// The safetensors header, parsed as a stream of JSON events into compact entries: no JSON tree
// is built, so a header of a million entries costs about what its entries do. Each event is
// checked against the format as it arrives, and the first problem stops the parse.
#include <fmt/format.h>

#include <limits>
#include <nlohmann/json.hpp>

#include "nn/detail/safetensors.hpp"

namespace ad::nn::detail {
namespace {

using nlohmann::json;

// The SAX handler. Depth 1 holds the tensor names and "__metadata__"; depth 2 a tensor's fields
// or the metadata's strings; depth 3 the numbers of "shape" and "data_offsets".
class HeaderParser {
 public:
  HeaderParser(uint64_t data_size, SafetensorsHeader& out) : data_size_(data_size), out_(out) {}
  const std::string& error() const { return error_; }

  bool null() { return scalar("null"); }
  bool boolean(bool) { return scalar("a boolean"); }
  bool number_integer(json::number_integer_t v) { return number(fmt::format("{}", v), false, 0); }
  bool number_unsigned(json::number_unsigned_t v) { return number(fmt::format("{}", v), true, v); }
  bool number_float(json::number_float_t, const std::string& s) { return number(s, false, 0); }
  bool binary(json::binary_t&) { return scalar("binary data"); }
  bool string(std::string& s);
  bool key(std::string& k);
  bool start_object(size_t);
  bool end_object();
  bool start_array(size_t);
  bool end_array();
  bool parse_error(size_t position, const std::string&, const nlohmann::detail::exception& e);

 private:
  enum class Field { none, dtype, shape, offsets };
  bool fail(std::string what) {
    error_ = std::move(what);
    return false;
  }
  bool scalar(const char* what);
  bool number(const std::string& text, bool is_unsigned, uint64_t v);
  bool finish_entry();
  std::string where() const { return in_metadata_ ? "\"__metadata__\"" : fmt::format("tensor '{}'", entry_.name); }

  uint64_t data_size_;
  SafetensorsHeader& out_;
  std::string error_;
  int depth_ = 0;
  bool in_metadata_ = false, seen_metadata_ = false;
  SafetensorsEntry entry_;
  Field field_ = Field::none;
  unsigned seen_ = 0;  // the fields of entry_ seen so far, one bit per Field
  std::vector<uint64_t> offsets_;
  std::string meta_key_;
};

// A value where the format has another kind of value (or none).
bool HeaderParser::scalar(const char* what) {
  if (depth_ == 1) return fail(fmt::format("{} is {}, not an object", where(), what));
  if (in_metadata_) return fail(fmt::format("metadata '{}' is {}, not a string", meta_key_, what));
  if (depth_ == 3)
    return fail(fmt::format("tensor '{}': \"{}\" holds {}; entries must be integers ≥ 0", entry_.name,
                            field_ == Field::shape ? "shape" : "data_offsets", what));
  if (field_ == Field::dtype) return fail(fmt::format("tensor '{}': \"dtype\" is {}, not a string", entry_.name, what));
  if (field_ == Field::shape)
    return fail(fmt::format("tensor '{}': \"shape\" is {}, not an array of sizes", entry_.name, what));
  return fail(fmt::format("tensor '{}': \"data_offsets\" is {}, not [begin, end]", entry_.name, what));
}

bool HeaderParser::number(const std::string& text, bool is_unsigned, uint64_t v) {
  if (depth_ != 3 || !is_unsigned) return scalar(depth_ == 3 ? text.c_str() : "a number");
  if (field_ == Field::offsets) {
    if (offsets_.size() == 2) return fail(fmt::format("tensor '{}': \"data_offsets\" must be [begin, end]", entry_.name));
    offsets_.push_back(v);
    return true;
  }
  if (entry_.shape.size() == Shape::kMaxRank)
    return fail(fmt::format("tensor '{}': \"shape\" has more than {} sizes", entry_.name, Shape::kMaxRank));
  if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    return fail(fmt::format("tensor '{}': shape size {} is too large", entry_.name, v));
  entry_.shape.push_back(static_cast<int64_t>(v));
  return true;
}

bool HeaderParser::string(std::string& s) {
  if (depth_ == 2 && in_metadata_) {
    out_.metadata[meta_key_] = std::move(s);
    return true;
  }
  if (depth_ != 2 || field_ != Field::dtype) return scalar("a string");
  if (s == "F32") {
    entry_.dtype = DType::f32;
  } else if (s == "F64") {
    entry_.dtype = DType::f64;
  } else if (s == "I64") {
    entry_.dtype = DType::i64;
  } else {
    return fail(fmt::format("tensor '{}' has dtype '{}'; only F32, F64 and I64 are supported", entry_.name, s));
  }
  return true;
}

bool HeaderParser::key(std::string& k) {
  if (depth_ == 1) {
    in_metadata_ = k == "__metadata__";
    if (in_metadata_ && std::exchange(seen_metadata_, true)) return fail("\"__metadata__\" appears twice");
    entry_ = SafetensorsEntry{};
    entry_.name = std::move(k);
    seen_ = 0;
    offsets_.clear();
    return true;
  }
  if (in_metadata_) {
    if (!out_.metadata.emplace(k, std::string()).second) return fail(fmt::format("metadata '{}' appears twice", k));
    meta_key_ = std::move(k);
    return true;
  }
  field_ = k == "dtype" ? Field::dtype : k == "shape" ? Field::shape : k == "data_offsets" ? Field::offsets : Field::none;
  if (field_ == Field::none)
    return fail(fmt::format("tensor '{}' has a field '{}'; the format has only \"dtype\", \"shape\" and "
                            "\"data_offsets\"",
                            entry_.name, k));
  const unsigned bit = 1u << static_cast<unsigned>(field_);
  if (seen_ & bit) return fail(fmt::format("tensor '{}' has the field '{}' twice", entry_.name, k));
  seen_ |= bit;
  return true;
}

bool HeaderParser::start_object(size_t) {
  if (depth_ <= 1) {
    ++depth_;
    return true;
  }
  return in_metadata_ ? fail(fmt::format("metadata '{}' is an object, not a string", meta_key_))
                      : scalar("an object");
}

bool HeaderParser::end_object() {
  --depth_;
  if (depth_ == 1 && !in_metadata_) return finish_entry();
  return true;
}

bool HeaderParser::start_array(size_t) {
  if (depth_ == 1) return fail(fmt::format("{} is an array, not an object", where()));
  if (depth_ != 2 || in_metadata_ || field_ == Field::dtype) return scalar("an array");
  ++depth_;
  return true;
}

bool HeaderParser::end_array() {
  --depth_;
  if (field_ == Field::offsets && offsets_.size() != 2)
    return fail(fmt::format("tensor '{}': \"data_offsets\" must be [begin, end]", entry_.name));
  return true;
}

// A tensor's entry is complete: its fields, and its size against its offsets and the data.
bool HeaderParser::finish_entry() {
  if (seen_ != 0b1110) return fail(fmt::format("tensor '{}' needs \"dtype\", \"shape\" and \"data_offsets\"", entry_.name));
  uint64_t bytes = dtype_size(entry_.dtype);
  for (int64_t d : entry_.shape) {
    const auto n = static_cast<uint64_t>(d);
    if (n != 0 && bytes > data_size_ / n) return fail(fmt::format("tensor '{}' is larger than the file", entry_.name));
    bytes *= n;
  }
  // A zero dim makes the tensor empty whatever the other dims say; bytes is then 0.
  entry_.begin = offsets_[0];
  entry_.end = offsets_[1];
  if (entry_.begin > entry_.end || entry_.end > data_size_)
    return fail(fmt::format("tensor '{}': data_offsets [{}, {}] lie outside the {} data bytes (truncated file?)",
                            entry_.name, entry_.begin, entry_.end, data_size_));
  if (entry_.end - entry_.begin != bytes)
    return fail(fmt::format("tensor '{}': data_offsets span {} bytes but {} {} needs {}", entry_.name,
                            entry_.end - entry_.begin, entry_.shape.str(),
                            entry_.dtype == DType::f32 ? "F32" : entry_.dtype == DType::f64 ? "F64" : "I64",
                            bytes));
  out_.entries.push_back(std::move(entry_));
  return true;
}

bool HeaderParser::parse_error(size_t, const std::string&, const nlohmann::detail::exception& e) {
  std::string what = e.what();
  const size_t tag = what.find("] ");  // drop "[json.exception.parse_error.101] "
  if (what.rfind("[json.exception", 0) == 0 && tag != std::string::npos) what.erase(0, tag + 2);
  const size_t echo = what.find("; last read: ");  // the bytes read, possibly not UTF-8
  if (echo != std::string::npos) what.erase(echo);
  return fail("the header is not valid JSON: " + what);
}

}  // namespace

void parse_safetensors_header(const InputFile& file, std::string_view text, uint64_t data_size,
                              SafetensorsHeader& out) {
  // The shortest entry, "":{"dtype":"F32","shape":[],"data_offsets":[0,0]}, takes 48 bytes:
  // room for every entry the header can hold, reserved but untouched until filled.
  out.entries.reserve(text.size() / 48 + 1);
  HeaderParser parser(data_size, out);
  if (!json::sax_parse(text.begin(), text.end(), &parser, json::input_format_t::json, true))
    file.fail(parser.error().empty() ? std::string("the header is not valid JSON") : parser.error());
}

}  // namespace ad::nn::detail
