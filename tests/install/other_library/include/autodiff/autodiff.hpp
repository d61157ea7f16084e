// Another library's header at the same path as tapegrad's umbrella header (the forward-mode
// autodiff library, for one, installs include/autodiff/). Reaching it instead of tapegrad's
// means the consumer's include path is wrong.
#error "another library's <autodiff/autodiff.hpp> was included instead of tapegrad's"
