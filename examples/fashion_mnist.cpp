// fashion_mnist: a 10-class deep network on Fashion-MNIST — softmax cross-entropy, Adam,
// mirrored mini-batches, label smoothing, a cosine learning-rate schedule, optional dropout and
// L2 — on the full 60,000/10,000 split. The default recipe (--full) was chosen by experiment to
// reach ≥ 90% test accuracy well inside a minute on 2 cores; see the report's numbers.
// Started by mpirun it trains data-parallel: each process takes its share of every batch.
//
//   fashion_mnist [--out DIR] [--data DIR] [--full]
//   mpirun -np 2 fashion_mnist --full
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <optional>
#include <nn/nn.hpp>

#include "common/batcher.hpp"
#include "common/cli.hpp"
#include "common/fast_blas.hpp"
#include "common/data.hpp"
#include "common/notebook.hpp"
#include "common/ranks.hpp"
#include "common/svg.hpp"

namespace nn = ad::nn;

namespace {

struct Recipe {
  std::string hidden = "512,256";  // n[1], n[2], …
  int64_t epochs = 15, batch = 128;
  double lr = 1e-3, lr_min = 1e-5, keep_prob = 1.0, l2 = 0.0;
  double smoothing = 0.1;
  bool no_flip = false, no_tta = false, no_standardize = false;
  bool tta = true, standardize = true;  // from the two flags above
};

// Linear → ReLU → Dropout for every hidden layer, then Linear to the 10 logits Z[L]; the
// softmax is fused into the cost.
nn::Sequential build(const std::vector<int64_t>& hidden, double keep_prob) {
  nn::Sequential net;
  int64_t prev = 784;
  for (int64_t n : hidden) {
    net.add(nn::Linear(prev, n, nn::Init::He)).add(nn::ReLU());
    if (keep_prob < 1.0) net.add(nn::Dropout(keep_prob));
    prev = n;
  }
  net.add(nn::Linear(prev, 10, nn::Init::Xavier));
  return net;
}

// Logits of every column in eval mode (dropout off), in chunks to bound memory.
ad::Tensor plain_logits(nn::Sequential& net, const ad::Tensor& X) {
  ad::NoGradGuard no_grad;
  net.eval();
  std::vector<ad::Tensor> parts;
  for (int64_t start = 0; start < X.size(1); start += 10000)
    parts.push_back(net.forward(ad::slice(X, 1, start, std::min(X.size(1), start + 10000))));
  net.train();
  return parts.size() == 1 ? parts[0] : ad::concat(parts, 1);
}

// Every 28×28 image mirrored left–right: a permutation of the 784 rows of X.
ad::Tensor mirrored(const ad::Tensor& X) {
  std::vector<int64_t> rows;
  for (int64_t p = 0; p < 784; ++p) rows.push_back(p - p % 28 + 27 - p % 28);
  ad::NoGradGuard no_grad;
  return ad::index_select(X, 0, rows);
}

// With test-time augmentation the logits of each image and of its mirror image are averaged.
ad::Tensor logits(nn::Sequential& net, const ad::Tensor& X, const Recipe& r) {
  if (!r.tta) return plain_logits(net, X);
  ad::NoGradGuard no_grad;
  return (plain_logits(net, X) + plain_logits(net, mirrored(X))) * 0.5;
}

// α_t = α_min + (α0 − α_min)·(1 + cos(π·t/T))/2: large steps first, small ones to settle.
double cosine_lr(const Recipe& r, int64_t epoch) {
  return r.lr_min + (r.lr - r.lr_min) * 0.5 * (1 + std::cos(M_PI * static_cast<double>(epoch) / r.epochs));
}

// The accuracy on a split, each rank evaluating its share of the columns (the same number as
// one process evaluating them all).
double split_accuracy(nn::Sequential& net, const ad::nn::IdxSplit& split, const Recipe& r, const ex::Ranks& ranks) {
  const nn::ColumnRange part = nn::shard_range(split.X.size(1), ranks.rank(), ranks.size());
  const std::vector<int64_t> labels(split.labels.begin() + part.begin, split.labels.begin() + part.end);
  return ranks.accuracy(logits(net, ad::slice(split.X, 1, part.begin, part.end), r), labels);
}

struct Epoch {
  double cost, train_acc, test_acc, seconds, lr;
};

Epoch run_epoch(nn::Sequential& net, ad::optim::Adam& adam, ex::ImageBatcher& batches, const Recipe& r,
                int64_t epoch, const ex::FashionData& d, ex::Ranks& ranks) {
  auto start = std::chrono::steady_clock::now();
  adam.set_learning_rate(cosine_lr(r, epoch));
  double total = 0, correct = 0, seen = 0;
  ex::Progress bar(fmt::format("epoch {:>2}", epoch + 1), static_cast<int64_t>(batches.size()));
  for (size_t k = 0; k < batches.size(); ++k) {
    ex::ImageBatch b = batches[k];
    ad::Tensor Z = net.forward(b.X);
    ad::Tensor J = nn::softmax_cross_entropy(Z, b.Y);
    if (r.l2 > 0) J = J + nn::l2_regularization(net, r.l2, b.X.size(1));
    adam.zero_grad();
    J.backward();
    ranks.synchronize();  // with several processes: every gradient is now the mean over them
    adam.step();
    const auto columns = static_cast<double>(b.X.size(1));
    total += J.item() * columns, correct += nn::accuracy(Z, b.labels) * columns, seen += columns;
    bar.update(static_cast<int64_t>(k + 1), fmt::format("J = {:.4f}", total / seen));
  }
  bar.finish();
  batches.shuffle();
  total = ranks.sum(total), correct = ranks.sum(correct), seen = ranks.sum(seen);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // The train accuracy is the running one over the epoch's batches (dropout on, weights still
  // moving), free to compute; the final full-set figure in eval mode is computed once at the end.
  return {total / seen, correct / seen, split_accuracy(net, d.test, r, ranks), seconds, adam.learning_rate()};
}

std::string class_grid(const ex::FashionData& d) {
  std::vector<ex::ImageTile> tiles;
  for (int64_t c = 0; c < 10; ++c) {
    int shown = 0;
    for (size_t i = 0; i < d.train.labels.size() && shown < 2; ++i)
      if (d.train.labels[i] == c)
        tiles.push_back(ex::tile(d.train.X, static_cast<int64_t>(i), ex::kFashionClasses[c])), ++shown;
  }
  return ex::image_grid(tiles, 28, 28, 10, 2);
}

// Section 1: the two splits (nullopt when the data is absent); standardized when asked. The
// [0, 1] test images are kept for the picture grids.
std::optional<ex::FashionData> data_section(ex::Notebook& nb, const Recipe& r, int64_t train_limit,
                                            ad::Tensor& test_images) {
  nb.section("The data", "Each image is a column of 784 pixel values in [0, 1]; the labels are class indices 0–9.");
  std::optional<ex::FashionData> d = ex::load_fashion(nb.options().data_dir, nb.options().full ? -1 : train_limit, -1);
  if (!d) {
    nb.say("Fashion-MNIST is not installed: install the Debian package dataset-fashion-mnist, then run again.");
    return d;
  }
  nb.shapes({{"X_train = A[0]", d->train.X}, {"X_test", d->test.X}});
  nb.say(fmt::format("{} training and {} test images; Y is one-hot (10, m).", d->train.labels.size(),
                     d->test.labels.size()));
  nb.figure(class_grid(*d), "Two training images of each class.");
  test_images = d->test.X;
  if (r.standardize) {
    ad::NoGradGuard no_grad;
    double mu = ad::mean(d->train.X).item(), sd = std::sqrt(ad::mean(ad::pow(d->train.X - mu, 2.0)).item());
    d->train.X = (d->train.X - mu) / sd, d->test.X = (d->test.X - mu) / sd;
    nb.say(fmt::format("Pixels standardized with the training set's mean {:.4f} and standard deviation {:.4f}.", mu,
                       sd));
  }
  return d;
}

std::string recipe_text(const Recipe& r) {
  return fmt::format("{} epochs of shuffled mini-batches of {}{} with Adam (α0 = {}, cosine decay to {}){}{}{}",
                     r.epochs, r.batch, r.no_flip ? "" : ", each image mirrored left–right with probability ½,",
                     r.lr, r.lr_min, r.smoothing > 0 ? fmt::format(", label smoothing ε = {}", r.smoothing) : "",
                     r.l2 > 0 ? fmt::format(", L2 λ = {}", r.l2) : "",
                     r.tta ? "; test predictions average each image and its mirror image" : "");
}

// Section 3: the epochs, their table and curves; returns the per-epoch numbers.
std::vector<Epoch> training_section(ex::Notebook& nb, nn::Sequential& net, const Recipe& r, const ex::FashionData& d,
                                    ex::Ranks& ranks) {
  nb.section("Training", recipe_text(r) + ". After each epoch: the mean cost and accuracy of its batches, the test "
                                          "accuracy, the time.");
  if (ranks.size() > 1)
    nb.say(fmt::format("Data-parallel on {} processes: each computes the gradient of {} columns of every batch of {}, "
                       "and the gradients are averaged across the processes before each step.",
                       ranks.size(), r.batch / ranks.size(), r.batch));
  ad::optim::Adam adam(net.parameters(), r.lr);
  ranks.share(net);
  ex::ImageBatcher batches(d.train.X, d.train.labels, 10, r.batch, 28, !r.no_flip, r.smoothing);
  batches.shard(ranks.rank(), ranks.size());
  std::vector<Epoch> epochs;
  std::vector<std::vector<std::string>> rows;
  std::vector<double> xs, cost, train_acc, test_acc;
  for (int64_t e = 0; e < r.epochs; ++e) {
    Epoch ep = run_epoch(net, adam, batches, r, e, d, ranks);
    epochs.push_back(ep);
    rows.push_back({std::to_string(e + 1), fmt::format("{:.2e}", ep.lr), fmt::format("{:.4f}", ep.cost),
                    ex::percent(ep.train_acc, 2), ex::percent(ep.test_acc, 2), fmt::format("{:.1f}", ep.seconds)});
    std::cout << fmt::format("epoch {:>2}: J = {:.4f}  train {}  test {}  ({:.1f} s)\n", e + 1, ep.cost,
                             ex::percent(ep.train_acc, 2), ex::percent(ep.test_acc, 2), ep.seconds)
              << std::flush;
    xs.push_back(static_cast<double>(e + 1)), cost.push_back(ep.cost);
    train_acc.push_back(100 * ep.train_acc), test_acc.push_back(100 * ep.test_acc);
  }
  nb.report().table({"epoch", "α", "train cost J", "train accuracy (batches)", "test accuracy", "seconds"}, rows);
  ex::LineChart cost_chart{"train cost J per epoch", "epoch", "J", {{"train cost", xs, cost, ex::palette(0)}}, 480, 300};
  ex::LineChart acc_chart{"accuracy per epoch", "epoch", "accuracy (%)",
                          {{"train", xs, train_acc, ex::palette(0)}, {"test", xs, test_acc, ex::palette(1)}}, 480, 300};
  nb.figures({{ex::line_chart(cost_chart), "The mean cost of the mini-batches of each epoch (as trained: dropout, if any, on)."},
              {ex::line_chart(acc_chart), "Train: the epoch's batches as they were trained; test: after the "
                                          "epoch, in eval mode."}});
  return epochs;
}

void confusion_section(ex::Notebook& nb, const nn::ConfusionMatrix& cm) {
  nb.section("Confusion matrix", "Rows are the true classes, columns the predictions; the diagonal holds the "
                                 "correct answers. Shirts, T-shirts, pullovers and coats are confused most.");
  ex::HeatMap heat{"test set confusion matrix", "true class", "predicted class", {}, {}, {}};
  for (int c = 0; c < 10; ++c) heat.row_labels.push_back(ex::kFashionClasses[c]);
  heat.col_labels = heat.row_labels;
  for (const auto& row : cm.counts)
    for (int64_t v : row) heat.values.push_back(static_cast<double>(v));
  nb.figure(ex::heat_map(heat), "Counts of the 10,000 test images.");

  nb.section("Per-class accuracy", "The share of each class's test images that the network gets right.");
  std::vector<ex::Bar> bars;
  std::vector<std::vector<std::string>> rows;
  for (int c = 0; c < 10; ++c) {
    int64_t total = 0;
    for (int64_t v : cm.counts[static_cast<size_t>(c)]) total += v;
    double acc = total ? static_cast<double>(cm.at(c, c)) / static_cast<double>(total) : 0;
    bars.push_back({ex::kFashionClasses[c], 100 * acc});
    rows.push_back({ex::kFashionClasses[c], std::to_string(total), ex::percent(acc)});
  }
  nb.table({"class", "test images", "accuracy"}, rows);
  nb.figure(ex::bar_chart("per-class test accuracy", bars, 100, "{:.1f}%"), "Accuracy of each class on the test set.");
}

void samples_section(ex::Notebook& nb, const ad::Tensor& images, const std::vector<int64_t>& predicted,
                     const std::vector<int64_t>& labels) {
  nb.section("Sample predictions", "The first 40 test images with the network's answer; red frames are mistakes.");
  std::vector<ex::ImageTile> tiles;
  for (int64_t i = 0; i < 40; ++i) {
    auto p = static_cast<size_t>(i);
    bool wrong = predicted[p] != labels[p];
    std::string caption = ex::kFashionClasses[predicted[p]];
    if (wrong) caption += std::string("\n(") + ex::kFashionClasses[labels[p]] + ")";
    tiles.push_back(ex::tile(images, i, caption, wrong));
  }
  nb.figure(ex::image_grid(tiles, 28, 28, 10, 3), "Prediction under each image; for a mistake the true class in "
                                                  "parentheses.");
}

void save_section(ex::Notebook& nb, nn::Sequential& net, const Recipe& r, const ex::FashionData& d) {
  nb.section("Saving the model", "The trained parameters W1, b1, … in the safetensors format, which PyTorch and "
                                 "NumPy read too; loading them into a fresh network gives the same predictions.");
  std::string path = (std::filesystem::path(nb.options().out_dir) / "fashion_mnist.safetensors").string();
  std::filesystem::create_directories(nb.options().out_dir);
  nn::save(net, path);
  nn::Sequential reloaded = build(ex::parse_list(r.hidden), r.keep_prob);
  nn::load(reloaded, path);
  double reloaded_acc = nn::accuracy(logits(reloaded, d.test.X, r), d.test.labels);
  nb.say(fmt::format("saved {} ({} parameters, {:.1f} MB); reloaded test accuracy {}", path, net.parameter_count(),
                     static_cast<double>(std::filesystem::file_size(path)) / 1e6, ex::percent(reloaded_acc, 2)));
}

}  // namespace

int main(int argc, char** argv) {
  ex::ensure_fast_blas(argv);
  ex::Ranks ranks(argc, argv);
  Recipe r;
  int64_t train_limit = 12000;
  ex::Cli cli("fashion_mnist",
              "A 10-class deep network on Fashion-MNIST: softmax cross-entropy, Adam, mirrored mini-batches, "
              "label smoothing and a cosine learning-rate schedule (dropout and L2 optional). The quick "
              "default trains 3 epochs on 12,000 images; --full trains the recipe on all 60,000.");
  cli.data_option().full_flag("the full run: all 60,000 training images, every epoch of the recipe");
  cli.option("hidden", &r.hidden, "hidden layer sizes n[1],n[2],…", "LIST");
  cli.option("epochs", &r.epochs, "epochs of the full run");
  cli.option("batch", &r.batch, "mini-batch size");
  cli.option("lr", &r.lr, "Adam's initial learning rate α0 (cosine decay to --lr-min)");
  cli.option("lr-min", &r.lr_min, "the learning rate at the end of the schedule");
  cli.option("keep-prob", &r.keep_prob, "dropout keep probability after each hidden layer (1: no dropout)");
  cli.option("l2", &r.l2, "L2 penalty λ (0: none)");
  cli.option("smoothing", &r.smoothing, "label smoothing ε (0: plain one-hot targets)");
  cli.flag("no-flip", &r.no_flip, "train without mirrored images");
  cli.flag("no-tta", &r.no_tta, "predict from each test image alone (no averaging with its mirror image)");
  cli.flag("no-standardize", &r.no_standardize, "keep the pixels in [0, 1]");
  cli.option("train-limit", &train_limit, "training images of the quick run");
  ex::CommonOptions opts = cli.parse(argc, argv);
  if (opts.threads > 0) ad::set_num_threads(opts.threads);
  if (!opts.full) r.epochs = std::min<int64_t>(r.epochs, 3);
  r.tta = !r.no_tta, r.standardize = !r.no_standardize;

  ex::Notebook nb("fashion_mnist", "Fashion-MNIST with a deep network",
                  "Ten classes of 28×28 clothing images. A network of ReLU layers, trained with Adam on "
                  "shuffled, mirrored mini-batches, classifies them; the report shows how training went and "
                  "where the network still errs.",
                  opts);
  ad::Tensor test_images;
  std::optional<ex::FashionData> d = data_section(nb, r, train_limit, test_images);
  if (!d) {
    if (ranks.leader()) nb.save();
    return 0;
  }
  nb.section("The network", fmt::format("784 → {} → 10: ReLU hidden layers (He initialization){}, and 10 logits "
                                        "Z[L] whose softmax is fused into the cost.",
                                        r.hidden, r.keep_prob < 1 ? fmt::format(", dropout keeping {} of the units "
                                                                                "while training", r.keep_prob)
                                                                  : std::string(" without dropout")));
  ad::manual_seed(opts.seed);
  nn::Sequential net = build(ex::parse_list(r.hidden), r.keep_prob);
  nb.code(nn::summary(net, 784));

  std::vector<Epoch> epochs = training_section(nb, net, r, *d, ranks);
  double train_seconds = 0;
  for (const Epoch& e : epochs) train_seconds += e.seconds;
  double final_train = split_accuracy(net, d->train, r, ranks);
  nb.result("test accuracy", ex::percent(epochs.back().test_acc, 2));
  nb.result(fmt::format("train accuracy ({} images, dropout off)", d->train.X.size(1)), ex::percent(final_train, 2));
  nb.result("training time", fmt::format("{:.1f} s", train_seconds));
  nb.result("wall time (load + train + evaluate)", fmt::format("{:.1f} s", nb.elapsed()));
  if (ranks.size() > 1) nb.result("processes", std::to_string(ranks.size()));
  if (!ranks.leader()) return 0;  // the pictures, the saved model and the report are rank 0's

  std::vector<int64_t> predicted = nn::predict(logits(net, d->test.X, r));
  confusion_section(nb, nn::confusion_matrix(predicted, d->test.labels, 10));
  samples_section(nb, test_images, predicted, d->test.labels);
  save_section(nb, net, r, *d);
  nb.save();
}
