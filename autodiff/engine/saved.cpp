// What a backward rule reads back: the tensors it saved and the op's output, each checked
// against the version its values had when recorded, so a rule never computes a gradient from
// values changed in place since the forward pass.
#include <fmt/format.h>

#include <string>

#include "autodiff/engine/access.hpp"
#include "autodiff/engine/node.hpp"

namespace ad {

namespace {
// A value a rule saved was changed in place before the rule ran: its gradient would be wrong.
[[noreturn]] void throw_changed(const detail::Node& n, const std::string& what, uint32_t saved, uint32_t now) {
  throw UsageError(fmt::format(
      "{}: {}, which its backward rule reads, was changed in place after the forward pass (version {} when saved, {} "
      "now), so backward would compute the gradient from the new values; change it after backward() (an optimizer "
      "step belongs after it), or clone() it before changing it",
      n.name, what, saved, now));
}
}  // namespace

const Tensor& BackwardContext::saved(const SavedTensor& s) const {
  if (!s.t_.defined()) return s.t_;
  const uint32_t now = s.t_.version();
  if (now == s.version_) return s.t_;
  std::string what = fmt::format("the tensor {}", s.t_.shape().str());
  for (size_t i = 0; i < node_->inputs.size(); ++i)  // a leaf input (or a detach() of one)?
    if (node_->inputs[i].leaf && node_->inputs[i].leaf->storage.get() == detail::impl_of(s.t_)->storage.get())
      what = fmt::format("input {}, the leaf {}", i, s.t_.shape().str());
  throw_changed(*node_, what, s.version_, now);
}

Tensor BackwardContext::output() const {
  if (!node_->saved_output)
    throw UsageError(fmt::format("{}: its backward rule asks for the output, but the op was recorded without save_output",
                                 node_->name));
  const uint32_t now = node_->saved_output->version.load(std::memory_order_relaxed);
  if (now != node_->saved_output_version)
    throw_changed(*node_, fmt::format("its output {}", node_->out_shape.str()), node_->saved_output_version, now);
  auto impl = detail::Ref<detail::TensorImpl>::adopt(new detail::TensorImpl());
  impl->dtype = node_->out_dtype;
  impl->shape = node_->out_shape;
  impl->storage = node_->saved_output;
  if (is_grad_enabled()) {  // create_graph: the output is differentiable through this record
    impl->grad_fn = detail::Ref<detail::Node>(node_);
    impl->requires_grad = true;
  }
  return detail::wrap(std::move(impl));
}

}  // namespace ad
