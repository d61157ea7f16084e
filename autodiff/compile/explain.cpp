// ad::explain and ad::to_dot of a compiled function: its most recently used trace. Buffers are
// named by role: argN (an argument), xN (a tensor from outside, in order of first use), tN an
// intermediate (at its arena offset), pN a persistent buffer (outputs, gradients), gN a leaf's
// gradient from before the call.
#include <fmt/format.h>

#include <algorithm>

#include "autodiff/compile/cache.hpp"

namespace ad {
namespace {

using detail::BufferKind;
using detail::BufferRecord;
using detail::kNone;
using detail::Recording;
using detail::StepKind;
using detail::StepRecord;
using detail::Trace;

struct Names {
  std::vector<std::string> buffer;

  explicit Names(const Recording& rec) : buffer(rec.buffers.size()) {
    size_t x = 0, t = 0, p = 0, g = 0;
    for (const StepRecord& s : rec.steps) {
      std::vector<uint32_t> ids = s.touched;
      for (const auto& o : s.operands) ids.push_back(o.buffer);
      for (uint32_t b : ids) {
        if (!buffer[b].empty()) continue;
        const BufferRecord& r = rec.buffers[b];
        switch (r.kind) {
          case BufferKind::argument: buffer[b] = fmt::format("arg{}", r.index); break;
          case BufferKind::external: buffer[b] = fmt::format("x{}", ++x); break;
          case BufferKind::entry_grad: buffer[b] = fmt::format("g{}", ++g); break;
          case BufferKind::internal: buffer[b] = r.persistent ? fmt::format("p{}", ++p) : fmt::format("t{}", ++t); break;
        }
      }
    }
  }
  // The name of a slot's tensor: the buffer of its storage, when the trace uses that buffer.
  std::string slot(const Recording& rec, uint32_t s) const {
    if (s == kNone) return "none";
    const detail::SlotRecord& r = rec.slots[s];
    if (r.arg != kNone) return fmt::format("arg{}", r.arg);
    if (r.held)
      for (size_t b = 0; b < rec.buffers.size(); ++b)
        if (rec.buffers[b].storage == r.held->storage.get() && !buffer[b].empty()) return buffer[b];
    return fmt::format("tensor{}", s);
  }
};

std::string kib(size_t bytes) { return fmt::format("{:.1f} KiB", static_cast<double>(bytes) / 1024.0); }

std::string operand_list(const Recording& rec, const Names& n, const Trace& trace, const StepRecord& s, size_t from,
                         size_t to) {
  std::string out;
  for (size_t i = from; i < to; ++i) {
    const detail::Operand& o = s.operands[i];
    out += fmt::format("{}{} {}", out.empty() ? "" : ", ", n.buffer[o.buffer], o.shape.str());
    if (trace.offset(o.buffer) != SIZE_MAX && i >= s.inputs) out += fmt::format(" @{}", trace.offset(o.buffer));
  }
  (void)rec;
  return out;
}

const Trace& last_trace(const detail::TraceCache& cache, const char* op) {
  const Trace* t = cache.last();
  if (!t) throw UsageError(fmt::format("{}: the compiled function has not been called yet: no trace", op));
  return *t;
}

}  // namespace

std::string explain(const CompiledFunction& f) {
  const Trace& trace = last_trace(*f.cache_, "explain");
  const Recording& rec = trace.recording();
  CompileStats st;
  trace.add_stats(st);
  std::string args;
  for (const auto& a : rec.args) args += fmt::format("{}{} {}", args.empty() ? "" : ", ", a.shape.str(), dtype_name(a.dtype));
  std::string out = fmt::format("trace for arguments ({}): {} kernels, {} host calls; {} steps in replay order\n",
                                args, st.kernels, st.host_calls, rec.steps.size());
  out += fmt::format("memory: {} intermediate buffers in a {} arena (eager peak {}), {} persistent buffers ({})\n",
                     st.intermediate_buffers, kib(st.arena_bytes), kib(st.eager_peak_bytes), st.persistent_buffers,
                     kib(st.persistent_bytes));
  const Names n(rec);
  for (size_t k = 0; k < rec.steps.size(); ++k) {
    const StepRecord& s = rec.steps[k];
    std::string line;
    switch (s.kind) {
      case StepKind::kernel:
        line = fmt::format("{:<22} {:<28} ← {}", s.name, operand_list(rec, n, trace, s, s.inputs, s.operands.size()),
                           operand_list(rec, n, trace, s, 0, s.inputs));
        break;
      case StepKind::host: {
        std::string touched;
        for (uint32_t b : s.touched) touched += (touched.empty() ? "" : ", ") + n.buffer[b];
        line = fmt::format("host call '{}' (touches {})", s.name, touched.empty() ? "nothing" : touched);
        break;
      }
      case StepKind::set_grad:
        line = fmt::format("{}.grad = {}", n.slot(rec, s.leaf), s.value == kNone ? "undefined" : n.slot(rec, s.value));
        break;
    }
    out += fmt::format("#{:<4} {}\n", k + 1, line);
  }
  return out;
}

std::string to_dot(const CompiledFunction& f) {
  const Trace& trace = last_trace(*f.cache_, "to_dot");
  const Recording& rec = trace.recording();
  const Names n(rec);
  std::string out = "digraph trace {\n  rankdir=TB;\n  node [fontname=\"Helvetica\"];\n";
  for (size_t b = 0; b < rec.buffers.size(); ++b) {
    if (n.buffer[b].empty()) continue;
    const bool planned = trace.offset(static_cast<uint32_t>(b)) != SIZE_MAX;
    out += fmt::format("  b{} [shape=ellipse, label=\"{}\\n{} bytes{}\"{}];\n", b, n.buffer[b], rec.buffers[b].bytes,
                       planned ? fmt::format("\\n@{}", trace.offset(static_cast<uint32_t>(b))) : "",
                       rec.buffers[b].kind == BufferKind::internal ? "" : ", style=filled, fillcolor=lightgray");
  }
  for (size_t k = 0; k < rec.steps.size(); ++k) {
    const StepRecord& s = rec.steps[k];
    out += fmt::format("  s{} [shape=box, label=\"#{} {}\"];\n", k, k + 1, s.name);
    for (size_t i = 0; i < s.operands.size(); ++i)
      out += i < s.inputs ? fmt::format("  b{} -> s{};\n", s.operands[i].buffer, k)
                          : fmt::format("  s{} -> b{};\n", k, s.operands[i].buffer);
    for (uint32_t b : s.touched) out += fmt::format("  s{} -> b{} [style=dashed, dir=both];\n", k, b);
  }
  return out + "}\n";
}

}  // namespace ad
