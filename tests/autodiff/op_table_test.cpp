// The generic op tests: each reads every row of the op table (op_table.hpp) and checks one
// property of every op — gradients against finite differences (first and second order),
// float32 against float64, broadcasting, values against a reference, what is recorded, and
// the errors of misuse.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <ostream>
#include <set>

#include "op_table.hpp"

namespace op_table {
namespace {

constexpr auto f32 = ad::DType::f32;
constexpr auto f64 = ad::DType::f64;

struct RowCase {
  const OpInfo* row;
};
void PrintTo(const RowCase& c, std::ostream* os) { *os << c.row->name; }

std::vector<RowCase> rows_of(bool (*keep)(const OpInfo&)) {
  std::vector<RowCase> out;
  for (const OpInfo& r : all_rows())
    if (keep(r)) out.push_back({&r});
  return out;
}
const Sample& first_plain_sample(const OpInfo& row) {
  for (const Sample& s : row.samples)
    if (!s.f) return s;
  return row.samples.front();
}
bool is_plain(const Sample& s) { return !s.f; }

std::vector<Tensor> draw_inputs(const std::vector<In>& ins) {
  std::vector<Tensor> xs;
  for (const In& in : ins) xs.push_back(make_input(in));
  return xs;
}

void seed_for(const std::string& name) { ad::manual_seed(std::hash<std::string>{}(name)); }

enum class Which { all, plain };
// Runs check(sample, inputs) on the row's samples (only the plain ones, the op itself, for
// Which::plain), each under a trace naming it, with inputs drawn from a generator seeded by the
// row and sample names: every run of a test sees the same numbers.
void for_each_sample(const OpInfo& row, Which which,
                     const std::function<void(const Sample&, const std::vector<Tensor>&)>& check) {
  for (const Sample& s : row.samples) {
    if (which == Which::plain && !is_plain(s)) continue;
    SCOPED_TRACE("sample " + s.name);
    seed_for(row.name + "_" + s.name);
    check(s, draw_inputs(s.inputs));
    EXPECT_EQ(ad::tape_size(), 0u) << "records left alive";
  }
}

std::string row_name(const ::testing::TestParamInfo<RowCase>& info) { return info.param.row->name; }

// |got − want| ≤ tol·(1 + |want|) entry by entry; the first bad entry is reported.
void expect_close(const Tensor& got, const Tensor& want, double tol, const std::string& what) {
  ASSERT_EQ(got.shape(), want.shape()) << what;
  const std::vector<double> g = got.to_vector(), w = want.to_vector();
  for (size_t i = 0; i < g.size(); ++i)
    if (!(std::abs(g[i] - w[i]) <= tol * (1 + std::abs(w[i])))) {
      ADD_FAILURE() << what << ", entry " << i << ": " << g[i] << " but expected " << w[i];
      return;
    }
}

// ---- index arithmetic for broadcasting, written out here rather than taken from the library
// under test.

ad::Shape broadcast_of(const std::vector<Tensor>& xs) {
  size_t rank = 0;
  for (const Tensor& x : xs) rank = std::max(rank, x.shape().size());
  std::vector<int64_t> dims(rank, 1);
  for (const Tensor& x : xs)
    for (size_t i = 0; i < x.shape().size(); ++i) {
      int64_t& d = dims[rank - x.shape().size() + i];
      d = x.shape()[i] == 1 ? d : x.shape()[i];
    }
  return ad::Shape(dims.begin(), dims.end());
}

// The flat index into `in` that flat index `k` of the broadcast shape `out` reads.
int64_t source_index(int64_t k, const ad::Shape& out, const ad::Shape& in) {
  int64_t src = 0, stride = 1;
  for (size_t i = out.size(); i-- > 0;) {
    const int64_t coord = k % out[i];
    k /= out[i];
    const size_t lead = out.size() - in.size();
    if (i < lead) continue;
    const int64_t d = in[i - lead];
    if (d != 1) src += coord * stride;
    stride *= d;
  }
  return src;
}

// "" when `call` throws an ad::Error that `is_type` accepts and whose message holds every word.
std::string check_throws(const std::function<void()>& call, const std::string& type,
                         const std::function<bool(const ad::Error&)>& is_type, const std::vector<std::string>& words) {
  try {
    call();
  } catch (const ad::Error& e) {
    std::string problems;
    if (!is_type(e)) problems += "expected a " + type + "; ";
    for (const std::string& w : words)
      if (std::string(e.what()).find(w) == std::string::npos) problems += "no '" + w + "'; ";
    return problems.empty() ? "" : problems + "message: " + e.what();
  } catch (const std::exception& e) {
    return std::string("threw a non-ad::Error: ") + e.what();
  }
  return "threw nothing; expected a " + type;
}

// ---- first and second order ----------------------------------------------------------------

class OpGradcheck : public ::testing::TestWithParam<RowCase> {};

TEST_P(OpGradcheck, Float64) {
  const OpInfo& row = *GetParam().row;
  for_each_sample(row, Which::all, [&](const Sample& s, const std::vector<Tensor>& xs) {
    const ad::GradcheckResult r = ad::gradcheck(callable(row, s), xs);
    EXPECT_TRUE(r) << r;
  });
}
INSTANTIATE_TEST_SUITE_P(, OpGradcheck, ::testing::ValuesIn(rows_of([](const OpInfo& r) { return r.differentiable; })),
                         row_name);

class OpSecondOrder : public ::testing::TestWithParam<RowCase> {};

// gradcheck of (inputs, v) ↦ vᵀ ∂f/∂inputs: the backward rules, recorded, are differentiated again.
TEST_P(OpSecondOrder, Float64) {
  const OpInfo& row = *GetParam().row;
  for_each_sample(row, Which::all, [&](const Sample& s, std::vector<Tensor> xs) {
    const Fn& f = callable(row, s);
    ad::Shape out;
    {
      ad::NoGradGuard shape_only;
      out = f(xs).shape();
    }
    xs.push_back(make_input(normal(out)));
    const ad::GradcheckResult r = ad::gradcheck(backward_as_function(f, s.inputs.size()), xs);
    EXPECT_TRUE(r) << r;
  });
}
INSTANTIATE_TEST_SUITE_P(, OpSecondOrder, ::testing::ValuesIn(rows_of([](const OpInfo& r) { return r.second_order; })),
                         row_name);

// ---- dtypes ------------------------------------------------------------------------------------

class OpDTypes : public ::testing::TestWithParam<RowCase> {};

// `xs` rounded to float32, as leaves in `dtype` (requiring grad where the sample's do).
std::vector<Tensor> rounded(const std::vector<Tensor>& xs, const Sample& s, ad::DType dtype) {
  std::vector<Tensor> out;
  for (size_t i = 0; i < xs.size(); ++i) {
    out.push_back(xs[i].detach().to(f32).to(dtype).clone().detach());
    if (s.inputs[i].grad) out.back().requires_grad_();
  }
  return out;
}

// The same values in float32 and in float64 (inputs rounded to float32 first, so both see the
// same numbers): outputs and gradients keep their inputs' dtype and agree to float32 precision.
TEST_P(OpDTypes, F32MatchesF64) {
  const OpInfo& row = *GetParam().row;
  constexpr double kTol = 1e-5;  // float32's ε is 6·10⁻⁸: a few roundings, with room to spare
  for_each_sample(row, Which::all, [&](const Sample& s, const std::vector<Tensor>& xs) {
    const std::vector<Tensor> x32 = rounded(xs, s, f32), x64 = rounded(xs, s, f64);
    const Tensor y32 = callable(row, s)(x32), y64 = callable(row, s)(x64);
    EXPECT_EQ(y32.dtype(), row.out_dtype.value_or(f32));
    EXPECT_EQ(y64.dtype(), row.out_dtype.value_or(f64));
    expect_close(y32, y64, kTol, "output");
    if (!row.differentiable) return;
    const Tensor seed = ad::randn(y64.shape()).to(f64);
    y32.backward(seed.to(f32));
    y64.backward(seed);
    for (size_t i = 0; i < xs.size(); ++i) {
      if (!s.inputs[i].grad) continue;
      ASSERT_EQ(x32[i].grad().defined(), x64[i].grad().defined()) << "input " << i;
      if (!x64[i].grad().defined()) continue;
      EXPECT_EQ(x32[i].grad().dtype(), f32) << "input " << i;
      EXPECT_EQ(x64[i].grad().dtype(), f64) << "input " << i;
      expect_close(x32[i].grad(), x64[i].grad(), kTol, "gradient of input " + std::to_string(i));
    }
  });
}
INSTANTIATE_TEST_SUITE_P(, OpDTypes, ::testing::ValuesIn(rows_of([](const OpInfo&) { return true; })), row_name);

class OpMixedDTypes : public ::testing::TestWithParam<RowCase> {};

// One input in float32, the others in float64: a DTypeError naming the op and both dtypes,
// unless the input may have any dtype (a where mask).
TEST_P(OpMixedDTypes, Throw) {
  const OpInfo& row = *GetParam().row;
  const auto is_dtype = [](const ad::Error& e) { return dynamic_cast<const ad::DTypeError*>(&e) != nullptr; };
  for_each_sample(row, Which::plain, [&](const Sample& s, const std::vector<Tensor>& xs) {
    for (size_t i = 0; i < xs.size() && xs.size() > 1; ++i) {
      std::vector<Tensor> mixed = xs;
      mixed[i] = xs[i].detach().to(f32);
      if (s.inputs[i].any_dtype) {
        EXPECT_EQ(row.op(mixed).dtype(), f64) << "input " << i << " in float32";
        continue;
      }
      EXPECT_EQ(check_throws([&] { (void)row.op(mixed); }, "DTypeError", is_dtype, {row.name, "float32", "float64"}), "")
          << "input " << i << " in float32";
    }
  });
}
INSTANTIATE_TEST_SUITE_P(, OpMixedDTypes,
                         ::testing::ValuesIn(rows_of([](const OpInfo& r) { return first_plain_sample(r).inputs.size() > 1; })),
                         row_name);

// ---- broadcasting and values -----------------------------------------------------------------

// Copies of xs with every entry repeated out to `shape`, by index arithmetic.
std::vector<Tensor> materialize(const std::vector<Tensor>& xs, const ad::Shape& shape) {
  std::vector<Tensor> out;
  for (const Tensor& x : xs) {
    const std::vector<double> v = x.to_vector();
    std::vector<double> m(static_cast<size_t>(shape.numel()));
    for (int64_t k = 0; k < shape.numel(); ++k) m[static_cast<size_t>(k)] = v[static_cast<size_t>(source_index(k, shape, x.shape()))];
    out.push_back(ad::tensor(m, shape, x.dtype()));
    if (x.requires_grad()) out.back().requires_grad_();
  }
  return out;
}

// A gradient of the broadcast shape summed down to `shape`, by index arithmetic.
Tensor summed_down(const Tensor& g, const ad::Shape& shape) {
  const std::vector<double> v = g.to_vector();
  std::vector<double> s(static_cast<size_t>(shape.numel()), 0.0);
  for (int64_t k = 0; k < g.numel(); ++k) s[static_cast<size_t>(source_index(k, g.shape(), shape))] += v[static_cast<size_t>(k)];
  return ad::tensor(s, shape, g.dtype());
}

class OpBroadcast : public ::testing::TestWithParam<RowCase> {};

// Over every broadcast shape case: the result has the broadcast shape and the values of the op
// on inputs repeated out to it, and each input's gradient is that op's gradient summed back
// over the dims the input was repeated along.
TEST_P(OpBroadcast, SumsBack) {
  const OpInfo& row = *GetParam().row;
  for_each_sample(row, Which::plain, [&](const Sample& s, const std::vector<Tensor>& xs) {
    const ad::Shape shape = broadcast_of(xs);
    const std::vector<Tensor> ms = materialize(xs, shape);
    const Tensor y = row.op(xs), ym = row.op(ms);
    ASSERT_EQ(y.shape(), shape);
    expect_close(y, ym, 1e-12, "output");
    if (!row.differentiable) return;
    const Tensor seed = ad::randn(shape, f64);
    y.backward(seed);
    ym.backward(seed);
    for (size_t i = 0; i < xs.size(); ++i)
      if (s.inputs[i].grad)
        expect_close(xs[i].grad(), summed_down(ms[i].grad(), xs[i].shape()), 1e-12, "gradient of input " + std::to_string(i));
  });
}
INSTANTIATE_TEST_SUITE_P(, OpBroadcast, ::testing::ValuesIn(rows_of([](const OpInfo& r) { return r.broadcasts; })),
                         row_name);

class OpValues : public ::testing::TestWithParam<RowCase> {};

// Every entry of every plain sample against the row's scalar reference.
TEST_P(OpValues, MatchRef) {
  const OpInfo& row = *GetParam().row;
  for_each_sample(row, Which::plain, [&](const Sample&, const std::vector<Tensor>& xs) {
    const ad::Shape shape = broadcast_of(xs);
    std::vector<std::vector<double>> vs;
    for (const Tensor& x : materialize(xs, shape)) vs.push_back(x.to_vector());
    std::vector<double> want(static_cast<size_t>(shape.numel())), args(xs.size());
    for (size_t k = 0; k < want.size(); ++k) {
      for (size_t i = 0; i < xs.size(); ++i) args[i] = vs[i][k];
      want[k] = row.ref(args.data());
    }
    expect_close(row.op(xs), ad::tensor(want, shape, f64), 1e-12, "output");
  });
}
INSTANTIATE_TEST_SUITE_P(, OpValues, ::testing::ValuesIn(rows_of([](const OpInfo& r) { return bool(r.ref); })),
                         row_name);

// ---- recording and errors ------------------------------------------------------------------

class OpRecording : public ::testing::TestWithParam<RowCase> {};

// With an input that requires grad the op records exactly one op under its own name (none if
// it is not differentiable); with none, or under NoGradGuard, it records nothing.
TEST_P(OpRecording, OneRecord) {
  const OpInfo& row = *GetParam().row;
  seed_for(row.name);
  const std::vector<Tensor> xs = draw_inputs(first_plain_sample(row).inputs);
  ASSERT_EQ(ad::tape_size(), 0u);
  {
    const Tensor y = row.op(xs);
    EXPECT_EQ(y.requires_grad(), row.differentiable);
    EXPECT_EQ(ad::tape_size(), row.differentiable ? 1u : 0u);
    if (row.differentiable) {
      EXPECT_EQ(std::string(y.op_name()), row.name);
    }
  }
  std::vector<Tensor> detached;
  for (const Tensor& x : xs) detached.push_back(x.detach());
  EXPECT_FALSE(row.op(detached).requires_grad());
  EXPECT_EQ(ad::tape_size(), 0u);
  ad::NoGradGuard off;
  const Tensor y = row.op(xs);
  EXPECT_FALSE(y.requires_grad());
  EXPECT_TRUE(y.is_leaf());
  EXPECT_EQ(ad::tape_size(), 0u);
}
INSTANTIATE_TEST_SUITE_P(, OpRecording, ::testing::ValuesIn(rows_of([](const OpInfo&) { return true; })), row_name);

class OpErrors : public ::testing::TestWithParam<RowCase> {};

TEST_P(OpErrors, AsDocumented) {
  for (const ErrorCase& e : GetParam().row->errors) {
    EXPECT_EQ(check_throws(e.call, e.type, e.is_type, e.words), "") << e.name;
    EXPECT_EQ(ad::tape_size(), 0u) << e.name;
  }
}
INSTANTIATE_TEST_SUITE_P(, OpErrors, ::testing::ValuesIn(rows_of([](const OpInfo& r) { return !r.errors.empty(); })),
                         row_name);

class OpUndefinedInput : public ::testing::TestWithParam<RowCase> {};

// Each input in turn undefined: a UsageError naming the op (an undefined tensor that a member
// is called on only says it is undefined).
TEST_P(OpUndefinedInput, Throws) {
  const OpInfo& row = *GetParam().row;
  const auto is_usage = [](const ad::Error& e) { return dynamic_cast<const ad::UsageError*>(&e) != nullptr; };
  seed_for(row.name);
  const std::vector<Tensor> xs = draw_inputs(first_plain_sample(row).inputs);
  for (size_t i = 0; i < xs.size(); ++i) {
    std::vector<Tensor> with_hole = xs;
    with_hole[i] = Tensor();
    const std::vector<std::string> words =
        row.on_input0 && i == 0 ? std::vector<std::string>{"undefined"} : std::vector<std::string>{row.name, "undefined"};
    EXPECT_EQ(check_throws([&] { (void)row.op(with_hole); }, "UsageError", is_usage, words), "") << "input " << i;
  }
}
INSTANTIATE_TEST_SUITE_P(, OpUndefinedInput, ::testing::ValuesIn(rows_of([](const OpInfo&) { return true; })), row_name);

// ---- the table itself ------------------------------------------------------------------------

TEST(OpTable, RowsAreWellFormed) {
  std::set<std::string> rows;
  for (const OpInfo& r : all_rows()) {
    EXPECT_TRUE(rows.insert(r.name).second) << "row " << r.name << " twice";
    EXPECT_TRUE(is_plain(first_plain_sample(r))) << r.name << " has no sample of the op itself";
    std::set<std::string> samples, errors;
    for (const Sample& s : r.samples) EXPECT_TRUE(samples.insert(s.name).second) << r.name << ": sample " << s.name << " twice";
    for (const ErrorCase& e : r.errors) EXPECT_TRUE(errors.insert(e.name).second) << r.name << ": error " << e.name << " twice";
    EXPECT_TRUE(r.differentiable || !r.second_order) << r.name;
  }
}

}  // namespace
}  // namespace op_table
