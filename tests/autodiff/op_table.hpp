// The op table: one row per op, in the spirit of PyTorch's OpInfo. A row names the op (as its
// errors and op_name() spell it), gives it as a callable on a list of tensors, lists sample
// inputs, says whether it is differentiable and has a second derivative, and lists its misuses
// with the ad::Error subclass and the words each must throw. The generic tests in
// op_table_test.cpp read every row: gradcheck in float64 and second-order gradcheck, float32
// against float64, mixed dtypes, broadcasting against inputs repeated out by hand, values
// against a scalar reference, what gets recorded, the misuses and an undefined input.
//
// Adding an elementwise op is one row, for example
//   elementwise("atan2", [](V x) { return ad::atan2(x[0], x[1]); },
//               [](const double* x) { return std::atan2(x[0], x[1]); }, {normal({}), away({})}),
// which samples it over every broadcast shape case and runs all the checks above.
#pragma once

#include <autodiff/autodiff.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace op_table {

using ad::Tensor;
using V = const std::vector<Tensor>&;
using Fn = std::function<Tensor(V)>;
/// A scalar reference for an elementwise op: the output entry from the input entries.
using Ref = std::function<double(const double*)>;

/// How a sample input's values are drawn. Kinked ops (abs, relu, clamp, max, …) get values at
/// least 0.125 away from every kink and from each other, far beyond the finite-difference step.
enum class Init {
  normal,          ///< standard normal
  positive,        ///< uniform in [0.5, 2)
  away_from_zero,  ///< normal, pushed 0.2 away from 0
  spaced,          ///< a shuffled grid … −0.375, −0.125, 0.125, 0.375 …
  spaced_between,  ///< a shuffled grid … −0.25, 0, 0.25 …: never equal to a spaced value
  unit,            ///< uniform in [0, 1)
  probability,     ///< uniform in [0.1, 0.9)
  one_hot,         ///< one 1 per column of a (classes, m) tensor
  mask,            ///< 0 or 1, each with probability ½
};

/// One input of a sample: its shape, its values, whether it requires grad and whether it may
/// have another dtype than the other inputs (a where mask may).
struct In {
  ad::Shape shape;
  Init init = Init::normal;
  bool grad = true;
  bool any_dtype = false;
};
In normal(ad::Shape s);
In pos(ad::Shape s);
In away(ad::Shape s);
In spaced(ad::Shape s);
In between(ad::Shape s);
In unit(ad::Shape s);
In prob(ad::Shape s);
In onehot(ad::Shape s);
/// A where mask: 0/1 values, no gradient, any dtype.
In mask(ad::Shape s);
/// The same input, needing no gradient.
In constant(In in);

/// One way to call an op. `f` empty: the row's op on these inputs (a "plain" sample); set: a
/// composition or another parameter (a dim, an exponent) around the op.
struct Sample {
  std::string name = {};  ///< short, for the test name: "3x1_3x4", "dim1_keepdim"
  std::vector<In> inputs = {};
  Fn f = {};
};

/// A misuse: the call, the ad::Error subclass it must throw and words its message must hold.
struct ErrorCase {
  std::string name;
  std::string type;  ///< "ShapeError", for failure messages
  std::function<bool(const ad::Error&)> is_type;
  std::vector<std::string> words;
  std::function<void()> call;
};
ErrorCase shape_error(std::string name, std::vector<std::string> words, std::function<void()> call);
ErrorCase dtype_error(std::string name, std::vector<std::string> words, std::function<void()> call);
ErrorCase usage_error(std::string name, std::vector<std::string> words, std::function<void()> call);
ErrorCase value_error(std::string name, std::vector<std::string> words, std::function<void()> call);

/// One row per op.
struct OpInfo {
  std::string name = {};  ///< as the op's errors and op_name() spell it
  Fn op = {};             ///< the op on its inputs, with fixed parameters
  std::vector<Sample> samples = {};
  bool differentiable = true;  ///< false: records nothing and no gradcheck
  bool second_order = true;    ///< its backward is differentiable (gradients of gradients)
  bool broadcasts = false;     ///< elementwise with NumPy broadcasting over all inputs
  bool on_input0 = false;      ///< called on input 0 (a member, or in place): undefined, it throws the handle's own error
  Ref ref = {};                ///< elementwise only: values are checked against it
  std::optional<ad::DType> out_dtype = {};  ///< the output's dtype when not the inputs' (argmax: int64)
  std::vector<ErrorCase> errors = {};
};

// ---- row builders ---------------------------------------------------------------------------

/// An elementwise op of one tensor: samples (3, 4), 0-d, (2, 3, 4) and (0, 3) drawn by `init`,
/// then `extra` samples.
OpInfo unary(std::string name, Fn op, Ref ref, Init init, std::vector<Sample> extra = {});
/// An elementwise op of several tensors with broadcasting: samples over every broadcast shape
/// case (inputs drawn by `inits`), the same tensor as every operand, a constant operand, then
/// `extra` samples; and the error for shapes that do not broadcast.
OpInfo elementwise(std::string name, Fn op, Ref ref, std::vector<In> inits, std::vector<Sample> extra = {});
/// `row` with `more` error cases.
OpInfo with_errors(OpInfo row, std::vector<ErrorCase> more);

/// "3x4", "0d", "2x1x4": a shape as it appears in test names.
std::string shape_name(const ad::Shape& s);

// ---- the table --------------------------------------------------------------------------------

std::vector<OpInfo> elementwise_rows();
std::vector<OpInfo> unary_rows();
std::vector<OpInfo> reduction_rows();
std::vector<OpInfo> shape_rows();
std::vector<OpInfo> linalg_rows();
std::vector<OpInfo> loss_rows();
std::vector<OpInfo> fused_rows();
std::vector<OpInfo> in_place_rows();
/// Every row, built once.
const std::vector<OpInfo>& all_rows();

// ---- what the generic tests use ---------------------------------------------------------------

/// A float64 tensor for `in`, from this thread's generator; a leaf requiring grad when in.grad.
Tensor make_input(const In& in);
/// The sample's callable: its own f, else the row's op.
const Fn& callable(const OpInfo& row, const Sample& s);
/// The backward pass as a function: (inputs…, v) ↦ the gradients of Σ v ⊙ f(inputs) with respect
/// to the inputs that require grad, recorded, flattened and joined. Gradchecking it checks every
/// second derivative and the backward's linearity in v, as gradgradcheck does.
Fn backward_as_function(Fn f, size_t n_inputs);

}  // namespace op_table
