// Peak memory and time of the file readers on hostile inputs. Each case writes its file into
// a scratch directory, then loads it in a child process (fork) held to 4 GiB of address space
// and 30 s, and reports what happened with the child's peak resident memory (wait4's
// ru_maxrss) and wall time. The first row, a valid 2-4-1 model, is the baseline: the
// process's own footprint. Not a test: it prints figures for bench/README.
//
//   build/bench/hostile_files [SCRATCH_DIR]      (default: $TMPDIR or /tmp)
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <nn/nn.hpp>
#include <string>
#include <vector>

namespace {

namespace nn = ad::nn;

struct Case {
  const char* name;
  std::function<std::string(const std::string& dir)> make;  // returns the path to load
  std::function<void(const std::string& path)> load;
};

std::string le64(uint64_t n) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[static_cast<size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xff);
  return s;
}

std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>((v >> 16) & 0xff), static_cast<char>((v >> 8) & 0xff),
          static_cast<char>(v & 0xff)};
}

void write_file(const std::string& path, const std::string& bytes) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) std::abort();
  std::fclose(f);
}

// A file of `bytes` followed by `junk` bytes of a hole (zeros, not stored on disk).
void extend_sparse(const std::string& path, uint64_t junk) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0 || ::truncate(path.c_str(), st.st_size + static_cast<off_t>(junk)) != 0)
    std::abort();
}

void load_model(const std::string& path) {
  nn::Sequential net;
  net.add(nn::Linear(2, 4)).add(nn::Tanh()).add(nn::Linear(4, 1));
  nn::load(net, path);
}

std::string saved_model(const std::string& dir) {
  nn::Sequential net;
  net.add(nn::Linear(2, 4)).add(nn::Tanh()).add(nn::Linear(4, 1));
  nn::save(net, dir + "/model.safetensors");
  return dir + "/model.safetensors";
}

// A header of `entries` one-float tensors named t0, t1, …, each with its 4 data bytes.
std::string many_entries(const std::string& dir, int entries) {
  std::string h = "{";
  for (int i = 0; i < entries; ++i) {
    char e[128];
    std::snprintf(e, sizeof e, "%s\"t%d\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[%d,%d]}", i ? "," : "", i,
                  4 * i, 4 * i + 4);
    h += e;
  }
  h += "}";
  const std::string path = dir + "/many.safetensors";
  write_file(path, le64(h.size()) + h + std::string(4 * static_cast<size_t>(entries), '\0'));
  return path;
}

// A header of ~150 MB (one long metadata string) and no tensors.
std::string big_header(const std::string& dir) {
  const std::string h = "{\"__metadata__\":{\"k\":\"" + std::string(150u << 20, 'a') + "\"}}";
  write_file(dir + "/big_header.safetensors", le64(h.size()) + h);
  return dir + "/big_header.safetensors";
}

// `members` gzip members, each `header` (first member only) then `zeros` zero bytes.
std::string gzip_bomb(const std::string& path, const std::string& header, size_t zeros, int members) {
  gzFile f = gzopen(path.c_str(), "wb9");
  const std::string block(1u << 20, '\0');
  for (int m = 0; m < members; ++m) {
    if (m == 0) gzwrite(f, header.data(), static_cast<unsigned>(header.size()));
    for (size_t done = 0; done < zeros; done += block.size())
      gzwrite(f, block.data(), static_cast<unsigned>(std::min(block.size(), zeros - done)));
    if (m + 1 < members) {  // close this member and start another in the same file
      gzclose(f);
      f = gzopen(path.c_str(), "ab9");
    }
  }
  gzclose(f);
  return path;
}

std::string fifo(const std::string& dir) {
  const std::string path = dir + "/fifo";
  ::unlink(path.c_str());
  if (::mkfifo(path.c_str(), 0600) != 0) std::abort();
  return path;
}

void read_labels(const std::string& path) { (void)nn::read_idx_labels(path); }
void read_images(const std::string& path) { (void)nn::read_idx_images(path); }
void read_tensors(const std::string& path) { (void)nn::read_safetensors(path); }

std::vector<Case> cases() {
  constexpr uint64_t kGiB = uint64_t{1} << 30;
  return {
      {"baseline: a valid 2-4-1 model", saved_model, load_model},
      {"safetensors: header length 2^40 in a 16-byte file",
       [](const std::string& d) {
         write_file(d + "/claim.safetensors", le64(uint64_t{1} << 40) + "{}      ");
         return d + "/claim.safetensors";
       },
       load_model},
      {"safetensors: a 150 MB header", big_header, read_tensors},
      {"safetensors: 1,000,000 one-float entries (read_safetensors)", [](const std::string& d) { return many_entries(d, 1000000); },
       read_tensors},
      {"safetensors: 1,000,000 one-float entries (load)", [](const std::string& d) { return d + "/many.safetensors"; },
       load_model},
      {"safetensors: a valid model + 1 GiB of junk",
       [](const std::string& d) {
         const std::string p = saved_model(d);
         extend_sparse(p, kGiB);
         return p;
       },
       load_model},
      {"safetensors: /dev/zero", [](const std::string&) { return std::string("/dev/zero"); }, load_model},
      {"safetensors: /dev/urandom", [](const std::string&) { return std::string("/dev/urandom"); }, load_model},
      {"safetensors: a FIFO nobody writes", fifo, load_model},
      {"IDX labels: 2^32-1 declared, gzip of 1 GiB of zeros",
       [](const std::string& d) { return gzip_bomb(d + "/huge-labels.gz", be32(0x801) + be32(0xffffffffu), kGiB, 1); },
       read_labels},
      {"IDX labels: 1,000 declared, gzip of 1 GiB of zeros",
       [](const std::string& d) { return gzip_bomb(d + "/small-labels.gz", be32(0x801) + be32(1000), kGiB, 1); },
       read_labels},
      {"IDX images: 2^32-1 × 28 × 28 declared, 16 gzip members of 64 MiB zeros",
       [](const std::string& d) {
         return gzip_bomb(d + "/members-images.gz", be32(0x803) + be32(0xffffffffu) + be32(28) + be32(28), 64u << 20, 16);
       },
       read_images},
      {"IDX labels: /dev/zero", [](const std::string&) { return std::string("/dev/zero"); }, read_labels},
      {"IDX labels: a FIFO nobody writes", fifo, read_labels},
  };
}

// Runs `load(path)` in a child; prints its outcome, peak RSS and wall time.
void run(const Case& c, const std::string& path) {
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) std::abort();
  const auto t0 = std::chrono::steady_clock::now();
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(pipe_fds[0]);
    const rlimit as{uint64_t{4} << 30, uint64_t{4} << 30};
    ::setrlimit(RLIMIT_AS, &as);
    ::alarm(30);
    std::string outcome = "loaded";
    try {
      c.load(path);
    } catch (const ad::Error& e) {
      outcome = std::string("ad::Error: ") + e.what();
    } catch (const std::exception& e) {
      outcome = std::string("NOT an ad::Error: ") + e.what();
    }
    size_t cut = std::min<size_t>(outcome.size(), 150);
    while (cut < outcome.size() && (static_cast<unsigned char>(outcome[cut]) & 0xC0) == 0x80) --cut;  // whole UTF-8
    outcome.resize(cut);
    if (::write(pipe_fds[1], outcome.data(), outcome.size()) < 0) ::_exit(2);
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  char buf[256] = {};
  const ssize_t n = ::read(pipe_fds[0], buf, sizeof buf - 1);
  ::close(pipe_fds[0]);
  int status = 0;
  rusage ru{};
  ::wait4(child, &status, 0, &ru);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::string outcome = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  if (WIFSIGNALED(status))
    outcome = WTERMSIG(status) == SIGALRM ? "still running after 30 s (killed)" : strsignal(WTERMSIG(status));
  std::printf("| %s | %.1f MB | %.2f s | %s |\n", c.name, static_cast<double>(ru.ru_maxrss) / 1024.0, secs,
              outcome.c_str());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  const char* tmp = std::getenv("TMPDIR");
  const std::string base = argc > 1 ? argv[1] : (tmp ? tmp : "/tmp");
  const std::string dir = base + "/tapegrad_hostile_" + std::to_string(::getpid());
  if (::mkdir(dir.c_str(), 0700) != 0) {
    std::perror(dir.c_str());
    return 1;
  }
  std::printf("| input | peak RSS | time | outcome |\n|---|---|---|---|\n");
  for (const Case& c : cases()) run(c, c.make(dir));
  const std::string cleanup = "rm -rf '" + dir + "'";
  return std::system(cleanup.c_str()) == 0 ? 0 : 1;
}
