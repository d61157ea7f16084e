// The bad-input tables' machinery, shared by the files that hold the rows by theme: a row
// names one misuse of the public API, the ad::Error subclass it must throw and the words its
// message must hold, so a user reading the message learns what is wrong. Anything else — no
// exception, another subclass, an exception that is not an ad::Error — fails the row.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nn/nn.hpp>
#include <string>
#include <vector>

namespace bad_input {

namespace fs = std::filesystem;

enum class Kind { Shape, DType, Usage, Value, Anomaly };

inline const char* kind_name(Kind k) {
  switch (k) {
    case Kind::Shape: return "ShapeError";
    case Kind::DType: return "DTypeError";
    case Kind::Usage: return "UsageError";
    case Kind::Value: return "ValueError";
    case Kind::Anomaly: return "AnomalyError";
  }
  return "?";
}

inline bool is_kind(const ad::Error& e, Kind k) {
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
  const char* what;                // the misuse, for the failure message
  Kind kind;                       // the ad::Error subclass it must throw
  std::vector<std::string> words;  // each must appear in the message
  std::function<void()> call;
};

/// What is wrong with how `r.call` failed; empty when it failed as the row says.
inline std::string check(const Row& r) {
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

inline void run_table(const std::vector<Row>& rows, size_t at_least) {
  EXPECT_GE(rows.size(), at_least);
  for (const Row& r : rows) {
    const std::string problem = check(r);
    EXPECT_TRUE(problem.empty()) << r.what << ": " << problem;
  }
  std::printf("[ table    ] %zu misuse rows\n", rows.size());
}

/// A scratch directory for the files a test writes; removed with everything in it.
struct ScratchDir {
  fs::path dir;
  explicit ScratchDir(const std::string& name)
      : dir(fs::temp_directory_path() / (name + "_" + std::to_string(::getpid()))) {
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~ScratchDir() { fs::remove_all(dir); }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  std::string path(const std::string& name) const { return (dir / name).string(); }
  /// Writes `content` to `name`; returns its path.
  std::string bytes(const std::string& name, const std::string& content) const {
    std::ofstream(path(name), std::ios::binary).write(content.data(), static_cast<std::streamsize>(content.size()));
    return path(name);
  }
};

/// 8 bytes, little-endian: a safetensors header length.
inline std::string le64(uint64_t n) {
  std::string out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  return out;
}

/// 4 bytes, big-endian: an IDX magic or dim.
inline std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>((v >> 16) & 0xff), static_cast<char>((v >> 8) & 0xff),
          static_cast<char>(v & 0xff)};
}

/// A safetensors file's bytes: the header length (`header`'s unless `claimed_len`), the JSON
/// header, then `data`.
inline std::string safetensors_bytes(const std::string& header, const std::string& data, uint64_t claimed_len = 0) {
  return le64(claimed_len ? claimed_len : header.size()) + header + data;
}

/// The network most file tests load into: 2 → 4 → 1, tanh hidden layer.
inline ad::nn::Sequential net_2_4_1(ad::DType dtype = ad::DType::f32) {
  ad::nn::Sequential net;
  net.add(ad::nn::Linear(2, 4, ad::nn::Init::Xavier, dtype))
      .add(ad::nn::Tanh())
      .add(ad::nn::Linear(4, 1, ad::nn::Init::Xavier, dtype));
  return net;
}

}  // namespace bad_input
