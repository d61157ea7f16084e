// The bad-input table of autodiff: one row per misuse of the tensor API, each naming the
// exception type it must throw and the words its message must hold (machinery in
// bad_input.hpp; nn's rows are in bad_input_nn_test.cpp, the files' in bad_input_files_test.cpp).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <nn/nn.hpp>
#include <string>
#include <vector>

#include "bad_input.hpp"

namespace {

using ad::DType;
using ad::Tensor;
using namespace bad_input;

Tensor m23() { return ad::ones({2, 3}); }
Tensor leaf(const ad::Shape& s, DType d = DType::f32) { return ad::ones(s, d).requires_grad_(); }

std::vector<Row> autodiff_rows() {
  return {
      // ---- elementwise: shapes that do not broadcast, dtype mixes, in-place misuse
      {"add (2,3)+(3,2)", Kind::Shape, {"add", "(2, 3)", "(3, 2)", "broadcast"}, [] { (void)(m23() + ad::ones({3, 2})); }},
      {"sub (2,3)-(4,3)", Kind::Shape, {"sub", "(2, 3)", "(4, 3)"}, [] { (void)(m23() - ad::ones({4, 3})); }},
      {"mul (2,3)*(2,2)", Kind::Shape, {"mul", "(2, 3)", "(2, 2)"}, [] { (void)(m23() * ad::ones({2, 2})); }},
      {"div (2,3)/(3)", Kind::Shape, {"div", "(2, 3)", "(2,)"}, [] { (void)(m23() / ad::ones({2})); }},
      {"minimum shapes", Kind::Shape, {"minimum", "(2, 3)", "(5,)"}, [] { (void)ad::minimum(m23(), ad::ones({5})); }},
      {"maximum shapes", Kind::Shape, {"maximum", "(2, 3)", "(3, 3)"}, [] { (void)ad::maximum(m23(), ad::ones({3, 3})); }},
      {"where mask shape", Kind::Shape, {"where", "(4,)", "(2, 3)"}, [] { (void)ad::where(ad::ones({4}), m23(), m23()); }},
      {"gt shapes", Kind::Shape, {"gt", "(2, 3)", "(2, 2)"}, [] { (void)ad::gt(m23(), ad::ones({2, 2})); }},
      {"add f32+f64", Kind::DType, {"add", "float32", "float64", ".to(DType)"},
       [] { (void)(m23() + ad::ones({2, 3}, DType::f64)); }},
      {"mul f64*f32 (broadcast)", Kind::DType, {"mul", "float64", "float32"},
       [] { (void)(ad::ones({2, 3}, DType::f64) * ad::ones({1})); }},
      {"add_ in place, shapes", Kind::Shape, {"add_", "(3, 3)", "(2, 3)"},
       [] { Tensor d = m23(); ad::add_(d, ad::ones({3, 3})); }},
      {"add_ into a leaf that requires grad", Kind::Usage, {"add_", "requires grad", "NoGradGuard"},
       [] { Tensor d = leaf({2, 3}); ad::add_(d, m23()); }},
      {"add_ source does not broadcast to dst", Kind::Shape, {"add_", "(2, 3)", "(1, 3)"},
       [] { Tensor d = ad::ones({1, 3}); ad::add_(d, m23()); }},
      {"add_scaled_ into a recorded output", Kind::Usage, {"add_scaled_", "recorded graph", "detach()"},
       [] { Tensor y = leaf({2, 3}) * 2.0; ad::add_scaled_(y, m23(), 0.5); }},
      {"mul_ on a leaf while recording", Kind::Usage, {"mul_", "(2, 3)", "NoGradGuard"},
       [] { Tensor w = leaf({2, 3}); ad::mul_(w, 0.5); }},
      {"copy_ into a recorded output", Kind::Usage, {"copy_", "recorded graph"},
       [] { Tensor y = leaf({2, 3}) * 2.0; y.copy_(m23()); }},
      {"copy_ shapes", Kind::Shape, {"copy_", "(4,)", "(2, 3)"}, [] { Tensor d = m23(); d.copy_(ad::ones({4})); }},
      {"copy_ dtypes", Kind::DType, {"copy_", "float64", "float32"},
       [] { Tensor d = m23(); d.copy_(ad::ones({2, 3}, DType::f64)); }},
      {"undefined input", Kind::Usage, {"undefined"}, [] { (void)(Tensor() + m23()); }},
      // ---- linear algebra
      {"matmul inner dims", Kind::Shape, {"matmul", "(2, 3)", "(2, 3)", "inner dimensions 3 and 2"},
       [] { (void)ad::matmul(m23(), m23()); }},
      {"matmul 1-D operand", Kind::Shape, {"matmul", "(3,)", "2-D"}, [] { (void)ad::matmul(m23(), ad::ones({3})); }},
      {"matmul 3-D operand", Kind::Shape, {"matmul", "(2, 3, 1)", "2-D"},
       [] { (void)ad::matmul(ad::ones({2, 3, 1}), m23()); }},
      {"gemm with transposes", Kind::Shape, {"gemm", "inner dimensions"},
       [] { (void)ad::gemm(m23(), m23(), true, true); }},
      {"matmul f32·f64", Kind::DType, {"matmul", "float32", "float64"},
       [] { (void)ad::matmul(m23(), ad::ones({3, 2}, DType::f64)); }},
      // ---- reductions: dims out of range, empty dims without a value
      {"sum dim 2 of 2-D", Kind::Shape, {"sum", "dim 2", "out of range", "(2, 3)"}, [] { (void)ad::sum(m23(), 2); }},
      {"mean dim -3 of 2-D", Kind::Shape, {"mean", "dim -3", "(2, 3)"}, [] { (void)ad::mean(m23(), -3); }},
      {"max dim 5", Kind::Shape, {"max", "dim 5"}, [] { (void)ad::max(m23(), 5); }},
      {"argmax dim of a 0-d", Kind::Shape, {"argmax", "0-d"}, [] { (void)ad::argmax(ad::scalar(1.0), 0); }},
      {"softmax dim 2", Kind::Shape, {"softmax", "dim 2"}, [] { (void)ad::softmax(m23(), 2); }},
      {"log_softmax dim -4", Kind::Shape, {"log_softmax", "dim -4"}, [] { (void)ad::log_softmax(m23(), -4); }},
      {"max over an empty dim", Kind::Shape, {"max", "empty", "(3, 0)"}, [] { (void)ad::max(ad::ones({3, 0}), 1); }},
      {"argmax over an empty dim", Kind::Shape, {"argmax", "empty"}, [] { (void)ad::argmax(ad::ones({0, 4}), 0); }},
      {"mean of an empty tensor", Kind::Shape, {"mean", "(0, 3)", "empty"}, [] { (void)ad::mean(ad::ones({0, 3})); }},
      {"mean over an empty dim", Kind::Shape, {"mean", "dim 1", "empty"}, [] { (void)ad::mean(ad::ones({2, 0}), 1); }},
      {"sum_to a shape it cannot reach", Kind::Shape, {"sum_to", "(2, 3)", "(2, 2)"},
       [] { (void)ad::sum_to(m23(), {2, 2}); }},
      // ---- shape ops
      {"reshape to another size", Kind::Shape, {"reshape", "(2, 3)", "(4, 2)", "6 elements"},
       [] { (void)ad::reshape(m23(), {4, 2}); }},
      {"reshape with two -1", Kind::Shape, {"reshape", "−1"}, [] { (void)ad::reshape(m23(), {-1, -1}); }},
      {"broadcast_to incompatible", Kind::Shape, {"broadcast_to", "(2, 3)", "(2, 4)"},
       [] { (void)ad::broadcast_to(m23(), {2, 4}); }},
      {"transpose a 3-D tensor", Kind::Shape, {"transpose", "2-D", "(1, 2, 3)"},
       [] { (void)ad::transpose(ad::ones({1, 2, 3})); }},
      {"concat of nothing", Kind::Value, {"concat", "empty"}, [] { (void)ad::concat({}, 0); }},
      {"concat other dims differ", Kind::Shape, {"concat", "(2, 4)", "(2, 3)"},
       [] { (void)ad::concat({m23(), ad::ones({2, 4})}, 0); }},
      {"concat dtypes differ", Kind::DType, {"concat", "float64", "float32"},
       [] { (void)ad::concat({m23(), ad::ones({2, 3}, DType::f64)}, 1); }},
      {"concat dim out of range", Kind::Shape, {"concat", "dim 2"}, [] { (void)ad::concat({m23(), m23()}, 2); }},
      {"slice end past the size", Kind::Value, {"slice", "[1, 5)", "size 3"}, [] { (void)ad::slice(m23(), 1, 1, 5); }},
      {"slice start after end", Kind::Value, {"slice", "[2, 1)"}, [] { (void)ad::slice(m23(), 1, 2, 1); }},
      {"slice dim out of range", Kind::Shape, {"slice", "dim 3"}, [] { (void)ad::slice(m23(), 3, 0, 1); }},
      {"index_select index too big", Kind::Value, {"index_select", "index 7", "size 3"},
       [] { (void)ad::index_select(m23(), 1, {0, 7}); }},
      {"index_select negative index past the start", Kind::Value, {"index_select", "index -4", "size 2", "[-2, 2)"},
       [] { (void)ad::index_select(m23(), 0, {-1, -4}); }},
      {"index_select -5 of a dim of 3", Kind::Value, {"index_select", "index -5", "[-3, 3)", "from the end"},
       [] { (void)ad::index_select(m23(), 1, {-1, -5}); }},
      {"index_select 3 of a dim of 3", Kind::Value, {"index_select", "index 3", "[-3, 3)"},
       [] { (void)ad::index_select(m23(), -1, {3}); }},
      // ---- unary ops and losses
      {"clamp lo > hi", Kind::Value, {"clamp", "lo = 2", "hi = 1"}, [] { (void)ad::clamp(m23(), 2.0, 1.0); }},
      {"softmax_cross_entropy shapes", Kind::Shape, {"softmax_cross_entropy", "(2, 3)", "(3, 2)"},
       [] { (void)ad::softmax_cross_entropy(m23(), ad::ones({3, 2})); }},
      {"bce_with_logits dtypes", Kind::DType, {"binary_cross_entropy_with_logits", "float32", "float64"},
       [] { (void)ad::binary_cross_entropy_with_logits(m23(), ad::ones({2, 3}, DType::f64)); }},
      {"softmax_cross_entropy of empty logits", Kind::Shape, {"softmax_cross_entropy", "empty"},
       [] { (void)ad::softmax_cross_entropy(ad::ones({3, 0}), ad::ones({3, 0})); }},
      // ---- factories and accessors
      {"tensor: values do not fill the shape", Kind::Shape, {"tensor", "5 values", "(2, 3)"},
       [] { (void)ad::tensor({1, 2, 3, 4, 5}, {2, 3}); }},
      {"zeros with a negative dim", Kind::Value, {"negative dim", "(2, -1)"}, [] { (void)ad::zeros({2, -1}); }},
      {"more than 8 dims", Kind::Shape, {"at most 8 dims"},
       [] { (void)ad::zeros({1, 1, 1, 1, 1, 1, 1, 1, 1}); }},
      {"a shape too large to allocate", Kind::Value, {"too large", "(1099511627776, 1099511627776)"},
       [] { (void)ad::zeros({int64_t{1} << 40, int64_t{1} << 40}); }},
      {"zeros of 2^40 floats: within the size checks, beyond memory", Kind::Value,
       {"zeros", "(1099511627776,)", "too large to allocate"}, [] { (void)ad::zeros({int64_t{1} << 40}); }},
      {"empty of 2^38 doubles", Kind::Value, {"empty", "(274877906944,)", "float64"},
       [] { (void)ad::empty({int64_t{1} << 38}, DType::f64); }},
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

TEST(BadInput, AutodiffMisuseThrowsTheRightErrorWithAReadableMessage) { run_table(autodiff_rows(), 75); }

TEST(BadInput, TheTablesLeaveNoRecordsBehind) {
  const size_t before = ad::tape_size();
  for (const Row& r : autodiff_rows()) (void)check(r);
  EXPECT_EQ(ad::tape_size(), before);  // every throwing call released what it recorded
}

}  // namespace
