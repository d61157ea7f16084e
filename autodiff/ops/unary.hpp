// Elementwise functions of one tensor.
#pragma once

#include "autodiff/tensor.hpp"

namespace ad {

/// eˣ.                                dX = dY ⊙ eˣ
Tensor exp(const Tensor& x);
/// ln x.                              dX = dY / x
Tensor log(const Tensor& x);
/// √x.                                dX = dY / (2√x)
Tensor sqrt(const Tensor& x);
/// |x|.                               dX = dY ⊙ sign(x)   (0 at x = 0)
Tensor abs(const Tensor& x);
/// xᵖ for a scalar exponent p.        dX = dY ⊙ p·xᵖ⁻¹
Tensor pow(const Tensor& x, double p);
/// tanh x.                            dX = dY ⊙ (1 − tanh²x)
Tensor tanh(const Tensor& x);
/// σ(x) = 1/(1+e⁻ˣ), stable for large |x|.   dX = dY ⊙ σ(x)(1 − σ(x))
Tensor sigmoid(const Tensor& x);
/// max(x, 0).                         dX = dY ⊙ [x > 0]
Tensor relu(const Tensor& x);
/// x for x > 0, slope·x otherwise.    dX = dY ⊙ (x > 0 ? 1 : slope)
Tensor leaky_relu(const Tensor& x, double slope = 0.01);
/// ln(1 + eˣ), stable for large |x|.  dX = dY ⊙ σ(x)
Tensor softplus(const Tensor& x);
/// min(max(x, lo), hi).               dX = dY ⊙ [lo ≤ x ≤ hi]
Tensor clamp(const Tensor& x, double lo, double hi);
/// sign(x) ∈ {−1, 0, 1}; not differentiable (zero gradient).
Tensor sign(const Tensor& x);

}  // namespace ad
