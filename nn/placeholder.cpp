#include "nn/nn.hpp"
