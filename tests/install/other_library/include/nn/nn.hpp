// Another library's header at the same path as tapegrad's nn umbrella header.
#error "another library's <nn/nn.hpp> was included instead of tapegrad's"
