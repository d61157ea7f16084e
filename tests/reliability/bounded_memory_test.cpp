// Bounded memory for any input: files that claim more than they hold, headers over the cap, a
// million tiny entries, a model followed by a gigabyte of junk, gzip bombs of one member and of
// many, trailing data after a gzip stream. Each is refused (or, when legal, read) while the
// process's peak resident memory grows by no more than the bound asserted, measured with
// Linux's VmHWM (reset through /proc/self/clear_refs). Memory is deterministic, unlike time;
// under a sanitizer (which keeps freed memory in quarantine) only the outcomes are checked.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <fstream>
#include <functional>
#include <nn/nn.hpp>
#include <string>

#include "bad_input.hpp"

namespace {

using namespace bad_input;
namespace nn = ad::nn;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kMeasure = false;
#else
constexpr bool kMeasure = true;
#endif

long status_kib(const std::string& field) {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind(field, 0) == 0) return std::stol(line.substr(field.size()));
  return -1;
}

// How much the peak resident memory rises above the current one while `f` runs, in MiB.
double peak_added_mib(const std::function<void()>& f) {
  std::ofstream("/proc/self/clear_refs") << "5";  // VmHWM := VmRSS
  const long before = status_kib("VmRSS:");
  f();
  return static_cast<double>(status_kib("VmHWM:") - before) / 1024.0;
}

// Runs `f`, expecting a ValueError holding `words`, within `bound_mib` of added peak memory.
void expect_refused_within(const std::function<void()>& f, const std::vector<std::string>& words, double bound_mib) {
  std::string msg;
  const double mib = peak_added_mib([&] {
    try {
      f();
    } catch (const ad::ValueError& e) {
      msg = e.what();
    }
  });
  ASSERT_FALSE(msg.empty()) << "no ValueError";
  for (const std::string& w : words) EXPECT_NE(msg.find(w), std::string::npos) << "'" << w << "' not in: " << msg;
  std::printf("[ memory   ] %.1f MiB peak added: %.100s\n", mib, msg.c_str());
  if (kMeasure) {
    EXPECT_LT(mib, bound_mib) << msg;
  }
}

void load_net(const std::string& path) {
  nn::Sequential net = net_2_4_1();
  nn::load(net, path);
}

// A gzip file of `header` then `zeros` zero bytes, as one member; `copies` members in all.
std::string gzip_file(const std::string& path, const std::string& header, size_t zeros, int copies) {
  {
    gzFile f = gzopen(path.c_str(), "wb1");
    gzwrite(f, header.data(), static_cast<unsigned>(header.size()));
    const std::string block(1 << 20, '\0');
    for (size_t done = 0; done < zeros; done += block.size())
      gzwrite(f, block.data(), static_cast<unsigned>(std::min(block.size(), zeros - done)));
    gzclose(f);
  }
  std::ifstream in(path, std::ios::binary);
  const std::string member((std::istreambuf_iterator<char>(in)), {});
  std::string all;
  for (int i = 0; i < copies; ++i) all += member;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << all;
  return path;
}

struct BoundedMemory : ::testing::Test {
  ScratchDir scratch{"tapegrad_bounded_memory"};
};

TEST_F(BoundedMemory, AModelAndAGigabyteOfJunkIsRejectedAtOnce) {
  const std::string path = scratch.path("junk.safetensors");
  {
    nn::Sequential net = net_2_4_1();
    nn::save(net, path);
  }
  const auto size = fs::file_size(path);
  fs::resize_file(path, size + (uint64_t{1} << 30));  // a hole: the junk costs no disk
  expect_refused_within([&] { load_net(path); }, {"1073741824 bytes of trailing data"}, 8);
}

TEST_F(BoundedMemory, HeadersClaimingTooMuchAreRejectedAtOnce) {
  expect_refused_within([&] { load_net(scratch.bytes("claim", le64(uint64_t{1} << 40) + "{}")); },
                        {"header length 1099511627776", "limit"}, 4);
  const std::string over_cap = scratch.bytes("over_cap", le64(100'000'001) + "{}");
  fs::resize_file(over_cap, 8 + 100'000'001);  // the file does hold it
  expect_refused_within([&] { load_net(over_cap); }, {"header length 100000001", "limit of 100000000"}, 4);
  expect_refused_within([&] { load_net(scratch.bytes("short", le64(4096) + "{}")); }, {"exceeds the 2 bytes"}, 4);
}

// A million one-float tensors: a 56 MB header. Read, they are a million tensors (about 650
// bytes each with their names and the header's entries); a load into a module rejects them
// without materializing any.
TEST_F(BoundedMemory, AMillionTinyEntriesCostFarUnderAGigabyte) {
  constexpr int kEntries = kMeasure ? 1'000'000 : 100'000;  // fewer where memory is not measured
  std::string header = "{";
  for (int i = 0; i < kEntries; ++i)
    header += fmt::format(R"({}"t{}":{{"dtype":"F32","shape":[1],"data_offsets":[{},{}]}})", i ? "," : "", i, 4 * i,
                          4 * i + 4);
  header += "}";
  const std::string path = scratch.bytes("many.safetensors", safetensors_bytes(header, std::string(4 * kEntries, '\0')));
  header = std::string();
  size_t count = 0;
  const double read_mib = peak_added_mib([&] { count = nn::read_safetensors(path).tensors.size(); });
  EXPECT_EQ(count, static_cast<size_t>(kEntries));
  std::printf("[ memory   ] %.1f MiB peak added: read_safetensors of %d one-float tensors\n", read_mib, kEntries);
  if (kMeasure) {
    EXPECT_LT(read_mib, 1024);
  }
  expect_refused_within([&] { load_net(path); }, {"no tensor 'W1'", fmt::format("{} tensors in all", kEntries)}, 256);
}

TEST_F(BoundedMemory, AGzipBombStopsJustPastTheDeclaredSize) {
  // 4 MiB of labels declared, 256 MiB of zeros behind them: one member, then sixteen.
  const std::string header = be32(0x801) + be32(4u << 20);
  const std::string one = gzip_file(scratch.path("one.gz"), header, 256u << 20, 1);
  expect_refused_within([&] { (void)nn::read_idx_labels(one); }, {"more data follows the 4194304 bytes"}, 4 + 8);
  const std::string many = gzip_file(scratch.path("many.gz"), header, 16u << 20, 16);
  expect_refused_within([&] { (void)nn::read_idx_labels(many); }, {"more data follows the 4194304 bytes"}, 4 + 8);
}

TEST_F(BoundedMemory, SizesOverTheLimitOrTheFileAreRejected) {
  const std::string gz = gzip_file(scratch.path("huge.gz"), be32(0x803) + be32(0xffffffffu) + be32(28) + be32(28), 1 << 20, 1);
  expect_refused_within([&] { (void)nn::read_idx_images(gz); }, {"declares dims (4294967295, 28, 28)", "more than"}, 4);
  const std::string plain = scratch.bytes("lying", be32(0x803) + be32(100000) + be32(28) + be32(28) + "abc");
  expect_refused_within([&] { (void)nn::read_idx_images(plain); }, {"truncated", "needs 78400000 bytes", "holds 3"}, 4);
  const std::string within = gzip_file(scratch.path("short.gz"), be32(0x801) + be32(64u << 20), 1 << 20, 1);
  expect_refused_within([&] { (void)nn::read_idx_labels(within); }, {"truncated", "needs 67108864 bytes"}, 8);
}

TEST_F(BoundedMemory, DataAfterTheGzipStreamIsRejected) {
  const std::string path = gzip_file(scratch.path("labels.gz"), be32(0x801) + be32(3) + "\x01\x02\x03", 0, 1);
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  EXPECT_EQ(nn::read_idx_labels(path), (std::vector<int64_t>{1, 2, 3}));
  for (const std::string& tail : {std::string("junk"), std::string(512, '\0'), std::string("\x1f")}) {
    const std::string bad = scratch.bytes("tail.gz", bytes + tail);
    expect_refused_within([&] { (void)nn::read_idx_labels(bad); },
                          {fmt::format("{} byte{} of trailing data after the gzip stream", tail.size(),
                                       tail.size() == 1 ? "" : "s")},
                          4);
  }
  const std::string two = scratch.bytes("two.gz", bytes + bytes);  // two members: 6 labels for 3
  expect_refused_within([&] { (void)nn::read_idx_labels(two); }, {"more data follows"}, 4);
  const std::string cut = scratch.bytes("cut.gz", bytes.substr(0, bytes.size() - 6));
  expect_refused_within([&] { (void)nn::read_idx_labels(cut); }, {"gzip error"}, 4);
}

// Runs `f` with the address space allowed to grow by only 64 MiB, reports on stderr and
// exits: 0 after a ValueError (its message follows "ValueError: "), 3 after another exception,
// 4 if `f` returned, 5 if the limit could not be set. Meant for a death test in the
// "threadsafe" style, which runs it in a freshly started copy of the test binary: no heap that
// earlier tests grew and left free can serve the allocation, so the outcome is the same
// whatever ran before.
[[noreturn]] void run_with_little_memory(const std::function<void()>& f, const ScratchDir& scratch) {
  const auto bytes = static_cast<rlim_t>(status_kib("VmSize:") + (64 << 10)) << 10;
  const rlimit limit{bytes, bytes};
  int code = 5;
  if (::setrlimit(RLIMIT_AS, &limit) != 0) {
    std::fputs("setrlimit failed\n", stderr);
  } else {
    try {
      f();
      code = 4;
    } catch (const ad::ValueError& e) {
      std::fprintf(stderr, "ValueError: %s\n", e.what());
      code = 0;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "not a ValueError: %s\n", e.what());
      code = 3;
    }
  }
  std::error_code ignored;
  fs::remove_all(scratch.dir, ignored);  // the child exits without running destructors
  ::_exit(code);
}

// Legal files the process has no memory for: a ValueError naming the file, not std::bad_alloc.
// Each needs far more than 64 MiB (a sanitizer's shadow memory would not fit in such a limit:
// measured builds only). The data are holes in the files: they cost no disk.
TEST_F(BoundedMemory, NoMemoryForALegalFileIsAValueErrorNamingIt) {
  if (!kMeasure) GTEST_SKIP() << "address-space limits and sanitizers do not mix";
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const std::string header = R"({"big":{"dtype":"F32","shape":[67108864],"data_offsets":[0,268435456]}})";
  const std::string big = scratch.bytes("big.safetensors", safetensors_bytes(header, ""));
  fs::resize_file(big, fs::file_size(big) + (uint64_t{1} << 28));
  EXPECT_EXIT(run_with_little_memory([&] { (void)nn::read_safetensors(big); }, scratch), ::testing::ExitedWithCode(0),
              "ValueError: safetensors '[^']*/big\\.safetensors': not enough memory to read it: tensor 'big'");
  // 32 MiB of pixels fit; the 128 MiB of floats they become do not.
  const std::string images = scratch.bytes("images.idx", be32(0x803) + be32(1) + be32(4096) + be32(8192));
  fs::resize_file(images, fs::file_size(images) + (uint64_t{32} << 20));
  EXPECT_EXIT(run_with_little_memory([&] { (void)nn::read_idx_images(images); }, scratch),
              ::testing::ExitedWithCode(0),
              "ValueError: read_idx_images: '[^']*/images\\.idx': not enough memory to read it");
}

TEST_F(BoundedMemory, TwoGzipMembersHoldingOneFileReadAsOne) {
  const std::string first = gzip_file(scratch.path("a.gz"), be32(0x801) + be32(4) + "\x01\x02", 0, 1);
  const std::string second = gzip_file(scratch.path("b.gz"), "\x03\x04", 0, 1);
  std::ifstream a(first, std::ios::binary), b(second, std::ios::binary);
  const std::string joined = std::string(std::istreambuf_iterator<char>(a), {}) + std::string(std::istreambuf_iterator<char>(b), {});
  EXPECT_EQ(nn::read_idx_labels(scratch.bytes("joined.gz", joined)), (std::vector<int64_t>{1, 2, 3, 4}));
}

}  // namespace
