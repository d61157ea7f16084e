// All-or-nothing loads: load(module, optimizer, path) checks the whole file — every tensor, the
// optimizer's step count and learning rate — before it writes anything, so on any error the
// module and the optimizer are bit for bit as they were. The bad checkpoints are a real one
// with one thing changed.
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <nn/nn.hpp>
#include <string>
#include <vector>

#include "bad_input.hpp"

namespace {

using namespace bad_input;
namespace nn = ad::nn;
namespace optim = ad::optim;

// Everything a load may change: parameters, optimizer state, step count, learning rate.
struct Snapshot {
  std::vector<std::vector<double>> values;
  int64_t steps = 0;
  double lr = 0;
  Snapshot(nn::Module& net, const optim::Optimizer& opt) : steps(opt.steps()), lr(opt.learning_rate()) {
    for (const ad::Tensor& p : net.parameters()) values.push_back(p.to_vector());
    for (const auto& e : opt.state()) values.push_back(e.value.to_vector());
  }
  bool operator==(const Snapshot& o) const { return values == o.values && steps == o.steps && lr == o.lr; }
};

struct AllOrNothing : ::testing::Test {
  ScratchDir scratch{"tapegrad_all_or_nothing"};
  nn::SafetensorsFile checkpoint;  // a real one: a 2-4-1 network after two Adam steps
  void SetUp() override {
    ad::manual_seed(3);
    nn::Sequential net = net_2_4_1();
    optim::Adam adam(net.parameters(), 0.05);
    const ad::Tensor X = ad::randn({2, 8}), Y = ad::gt(ad::sum(X, 0, true), 0.0);
    for (int i = 0; i < 2; ++i) {
      adam.zero_grad();
      nn::binary_cross_entropy_with_logits(net.forward(X), Y).backward();
      adam.step();
    }
    nn::save(net, adam, scratch.path("good.safetensors"));
    checkpoint = nn::read_safetensors(scratch.path("good.safetensors"));
  }
  // The checkpoint after `change`, written as a file.
  std::string variant(const std::string& name, const std::function<void(nn::SafetensorsFile&)>& change) {
    nn::SafetensorsFile f = checkpoint;
    change(f);
    nn::write_safetensors(scratch.path(name), f.tensors, f.metadata);
    return scratch.path(name);
  }
  // Loads `path` into a fresh network and Adam whose values differ from the file's; expects a
  // ValueError holding `words` and nothing changed.
  void expect_untouched(const std::string& path, const std::vector<std::string>& words) {
    ad::manual_seed(9);
    nn::Sequential net = net_2_4_1();
    optim::Adam adam(net.parameters(), 0.5);
    adam.set_steps(7);
    const Snapshot before(net, adam);
    try {
      nn::load(net, adam, path);
      ADD_FAILURE() << "loaded";
    } catch (const ad::ValueError& e) {
      for (const std::string& w : words) EXPECT_NE(std::string(e.what()).find(w), std::string::npos) << e.what();
    }
    EXPECT_TRUE(Snapshot(net, adam) == before) << "a failed load changed the module or the optimizer";
  }
};

TEST_F(AllOrNothing, AGoodCheckpointLoadsEverything) {
  nn::Sequential net = net_2_4_1();
  optim::Adam adam(net.parameters(), 0.5);
  nn::load(net, adam, scratch.path("good.safetensors"));
  EXPECT_EQ(adam.steps(), 2);
  EXPECT_EQ(adam.learning_rate(), 0.05);
  EXPECT_EQ(net.parameters()[0].to_vector(), checkpoint.find("W1").to_vector());
  EXPECT_EQ(adam.state()[0].value.to_vector(), checkpoint.find("adam.m.W1").to_vector());
}

TEST_F(AllOrNothing, ALearningRateThatIsNotANumberChangesNothing) {
  for (const std::string lr : {"abc", "", "0.01x", "nan", "inf", "1e999", "-0.5", " 0.1"}) {
    SCOPED_TRACE(lr);
    expect_untouched(variant("lr.safetensors", [&](nn::SafetensorsFile& f) { f.metadata["adam.lr"] = lr; }),
                     {"metadata 'adam.lr'", "is not a learning rate"});
  }
}

TEST_F(AllOrNothing, AStepCountThatIsNotOneChangesNothing) {
  for (const std::string steps : {"-1", "3.5", "", "two", "99999999999999999999"}) {
    SCOPED_TRACE(steps);
    expect_untouched(variant("steps.safetensors", [&](nn::SafetensorsFile& f) { f.metadata["adam.steps"] = steps; }),
                     {"metadata 'adam.steps'", "is not a step count"});
  }
  expect_untouched(variant("no_steps.safetensors", [](nn::SafetensorsFile& f) { f.metadata.erase("adam.steps"); }),
                   {"no metadata 'adam.steps'"});
}

TEST_F(AllOrNothing, ATensorWrongAnywhereChangesNothing) {
  auto replace = [](nn::SafetensorsFile& f, const std::string& name, ad::Tensor t) {
    for (auto& [n, v] : f.tensors)
      if (n == name) v = t;
  };
  expect_untouched(variant("v_shape.safetensors", [&](nn::SafetensorsFile& f) { replace(f, "adam.v.b2", ad::zeros({2, 1})); }),
                   {"'adam.v.b2'", "(2, 1) in the file", "(1, 1)"});
  expect_untouched(variant("b2_dtype.safetensors",
                           [&](nn::SafetensorsFile& f) { replace(f, "b2", ad::zeros({1, 1}, ad::DType::f64)); }),
                   {"'b2'", "F64 in the file"});
  expect_untouched(variant("no_m.safetensors",
                           [](nn::SafetensorsFile& f) {
                             std::erase_if(f.tensors, [](const auto& t) { return t.first == "adam.m.W2"; });
                           }),
                   {"no tensor 'adam.m.W2'"});
  expect_untouched(variant("stranger.safetensors",
                           [](nn::SafetensorsFile& f) { f.tensors.emplace_back("W3", ad::zeros({1, 1})); }),
                   {"'W3'", "does not have"});
}

TEST_F(AllOrNothing, ABrokenFileChangesNothing) {
  std::string bytes = [&] {
    std::ifstream in(scratch.path("good.safetensors"), std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }();
  expect_untouched(scratch.bytes("cut.safetensors", bytes.substr(0, bytes.size() - 1)), {"outside", "truncated"});
  bytes[8] = '[';
  expect_untouched(scratch.bytes("bracket.safetensors", bytes), {"not a JSON object"});
}

}  // namespace
