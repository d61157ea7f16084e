// save/load in the safetensors format, so PyTorch and NumPy users read and write the same
// files: an 8-byte little-endian header length N, N bytes of JSON
//   {"W1": {"dtype": "F32", "shape": [4, 2], "data_offsets": [0, 32]}, …, "__metadata__": {…}}
// (padded with spaces to a multiple of 8), then the raw little-endian data; offsets are
// relative to the start of the data. Keys are the module's named_parameters() names.
//
// With an optimizer, its state goes into the same file as extra tensors named
// "<optimizer>.<slot>.<parameter>" ("adam.m.W1", "adam.v.W1", "sgd.velocity.b2") and its step
// count and learning rate as metadata ("adam.steps", "adam.lr"). load(module, path) ignores
// such extra tensors, so a checkpoint also loads as a plain model.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "nn/module.hpp"
#include "nn/optim.hpp"

namespace ad::nn {

/// Writes every parameter of `module` to `path` atomically: a temporary file in the same
/// directory, fsync, then rename, so a crash never leaves a half-written file at `path`.
void save(Module& module, const std::string& path);
/// Reads every parameter of `module` from `path`. All names, dtypes and shapes are checked
/// before anything is written; the first mismatch throws ValueError naming the tensor. A
/// missing, unreadable, truncated or malformed file throws ValueError saying what is wrong.
void load(Module& module, const std::string& path);

/// save() plus the optimizer's state (every optimizer parameter must belong to `module`).
void save(Module& module, const optim::Optimizer& optimizer, const std::string& path);
/// load() plus the optimizer's state, saved by an optimizer of the same kind.
void load(Module& module, optim::Optimizer& optimizer, const std::string& path);

/// The contents of a safetensors file.
struct SafetensorsFile {
  std::vector<std::pair<std::string, Tensor>> tensors;  ///< in data order
  std::map<std::string, std::string> metadata;          ///< the header's "__metadata__" strings
  /// The tensor called `name`, or an undefined Tensor.
  Tensor find(const std::string& name) const;
};

/// Writes named F32/F64/I64 tensors and string metadata as a safetensors file (atomically).
void write_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata = {});
/// Reads and validates a whole safetensors file (dtypes F32, F64 and I64).
SafetensorsFile read_safetensors(const std::string& path);

}  // namespace ad::nn
