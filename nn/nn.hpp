#pragma once
#include "autodiff/autodiff.hpp"
