// Precompiled header for omnirm_core: the torch headers most files need, compiled once.
#pragma once
#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/embedding.h>
#include <torch/autograd.h>
#include <string>
#include <vector>
