// The bad-input table of autodiff outside the ops themselves (their misuses are rows of the op
// table, tests/autodiff/op_table.hpp): one row per misuse of the tensor API, each naming the
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

TEST(BadInput, AutodiffMisuseThrowsAReadableError) { run_table(autodiff_rows(), 25); }

TEST(BadInput, TheTablesLeaveNoRecordsBehind) {
  const size_t before = ad::tape_size();
  for (const Row& r : autodiff_rows()) (void)check(r);
  EXPECT_EQ(ad::tape_size(), before);  // every throwing call released what it recorded
}

}  // namespace
