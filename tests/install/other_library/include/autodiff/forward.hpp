// Another library's own header in include/autodiff/: it stays reachable beside tapegrad.
#pragma once

namespace other_library {
constexpr int kVersion = 3;
}
