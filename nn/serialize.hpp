// save/load in the safetensors format, so PyTorch and NumPy users read and write the same
// files: an 8-byte little-endian header length N, N bytes of JSON
//   {"W1": {"dtype": "F32", "shape": [4, 2], "data_offsets": [0, 32]}, …, "__metadata__": {…}}
// (padded with spaces to a multiple of 8), then the raw little-endian data; offsets are
// relative to the start of the data. Keys are the module's named_parameters() names.
//
// With an optimizer, its state goes into the same file as extra tensors named
// "<optimizer>.<slot>.<parameter>" ("adam.m.W1", "adam.v.W1", "sgd.velocity.b2") and its step
// count and learning rate as metadata ("adam.steps", "adam.lr"). load(module, path) skips such
// extra tensors, so a checkpoint also loads as a plain model.
//
// Files are read as coming from elsewhere: everything is validated before any value is used,
// with bounded memory, and every failure is a ValueError naming the file and the problem. A
// file is accepted only when it is exactly what the format allows:
//  - a regular file (a FIFO, a device, a directory or a /proc file is refused at once);
//  - a header of at most 100,000,000 bytes (the format's cap) that fits in the file, begins
//    with '{', holds no NUL byte and is padded with spaces (0x20) only; valid UTF-8 JSON with no
//    key twice at any level;
//  - every entry has exactly "dtype", "shape" and "data_offsets"; at most 8 dims;
//    "__metadata__", if present, maps strings to strings;
//  - the data offsets, in order, start at 0 and meet end to end up to the end of the file: no
//    hole, no overlap, no byte after the last tensor. A tensor with a 0 dim takes no bytes.
// Where the format leaves a choice, tapegrad's: dtypes other than F32, F64 and I64 (valid in the
// format) are refused with a message; an entry with a field besides the three is refused
// (the reference implementation ignores such fields); any string, the empty one included, may
// name a tensor. The header is parsed as a stream into compact entries (validating costs about
// 200 bytes per entry, well under a gigabyte for the largest header); data is read tensor by
// tensor straight into place, and a file longer than its header describes is refused from its
// size, without reading the rest.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "nn/module.hpp"
#include "nn/optim.hpp"

namespace ad::nn {

/// Writes every parameter of `module` to `path` atomically: the data goes into an unnamed file
/// in the same directory (O_TMPFILE; a hidden ".<name>.tmp-XXXXXX" where the file system lacks
/// it), is fsynced, named and renamed over `path`, so a crash never leaves a half-written file
/// at `path`. Each save also removes the hidden temporaries of `path` that no living process is
/// writing (a writer holds an flock on its own). ValueError for an empty path or one that
/// cannot be written.
void save(Module& module, const std::string& path);
/// Reads every parameter of `module` from `path`. The whole file is validated (see above), every
/// parameter must be there with its dtype and shape, and every tensor of the file must be one
/// of the module's (or an optimizer's state, skipped) before anything is written: a failed load
/// leaves the module as it was. ValueError naming the file and the problem otherwise.
void load(Module& module, const std::string& path);

/// save() plus the optimizer's state (every optimizer parameter must belong to `module`).
void save(Module& module, const optim::Optimizer& optimizer, const std::string& path);
/// load() plus the optimizer's state, saved by an optimizer of the same kind. The step count
/// must be an integer ≥ 0 and the learning rate, if present, a finite number ≥ 0; all of it is
/// checked, like every tensor, before the module or the optimizer changes: on any error both
/// are exactly as before.
void load(Module& module, optim::Optimizer& optimizer, const std::string& path);

/// The contents of a safetensors file.
struct SafetensorsFile {
  std::vector<std::pair<std::string, Tensor>> tensors;  ///< in data order
  std::map<std::string, std::string> metadata;          ///< the header's "__metadata__" strings
  /// The tensor called `name`, or an undefined Tensor.
  Tensor find(const std::string& name) const;
};

/// Writes named F32/F64/I64 tensors and string metadata as a safetensors file (atomically, as
/// save() does). Names and metadata must be valid UTF-8 (the header is JSON): ValueError
/// before anything is written otherwise; UsageError for a repeated or "__metadata__" name.
void write_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata = {});
/// Reads and validates a whole safetensors file (dtypes F32, F64 and I64), the tensors in data
/// order. ValueError naming the file for anything the format does not allow (see above), or
/// when there is not enough memory for its tensors.
SafetensorsFile read_safetensors(const std::string& path);

}  // namespace ad::nn
