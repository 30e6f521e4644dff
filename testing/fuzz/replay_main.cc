// A main() for fuzz targets built without libFuzzer: replays every seed file named on
// the command line through LLVMFuzzerTestOneInput, then a fixed number of
// deterministic mutations of them (bit flips, truncations, splices, byte insertions).
// A crash, sanitizer report or an input running over 10 s (printed in hex) fails the test, so the targets stay exercised on
// every `./dev test`; real coverage-guided fuzzing runs with --config=fuzz.
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

// The input under test, for the hang watchdog.
const std::string* g_current = nullptr;
constexpr unsigned kHangSeconds = 10;

void OnHang(int) {
  static const char kMsg[] = "replay: one input ran longer than the hang limit; input bytes (hex):\n";
  (void)!write(2, kMsg, sizeof(kMsg) - 1);
  if (g_current != nullptr) {
    static const char kHex[] = "0123456789abcdef";
    for (unsigned char c : *g_current) {
      char b[2] = {kHex[c >> 4], kHex[c & 15]};
      (void)!write(2, b, 2);
    }
    (void)!write(2, "\n", 1);
  }
  abort();
}

void Run(const std::string& input) {
  g_current = &input;
  alarm(kHangSeconds);
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
  alarm(0);
  g_current = nullptr;
}

std::string Mutate(const std::vector<std::string>& seeds, std::mt19937_64& rng) {
  std::string s = seeds[rng() % seeds.size()];
  const int steps = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < steps; ++i) {
    switch (rng() % 5) {
      case 0:  // flip one bit
        if (!s.empty()) s[rng() % s.size()] ^= static_cast<char>(1u << (rng() % 8));
        break;
      case 1:  // truncate
        if (!s.empty()) s.resize(rng() % s.size());
        break;
      case 2:  // insert a random byte
        s.insert(s.begin() + static_cast<std::ptrdiff_t>(s.empty() ? 0 : rng() % s.size()),
                 static_cast<char>(rng() & 0xff));
        break;
      case 3: {  // splice a tail of another seed
        const std::string& other = seeds[rng() % seeds.size()];
        if (!other.empty() && !s.empty()) {
          s = s.substr(0, rng() % s.size()) + other.substr(rng() % other.size());
        }
        break;
      }
      default:  // overwrite a byte with an interesting value
        if (!s.empty()) {
          static const char kInteresting[] = {0, '\xff', '\x7f', '"', '{', '[', ':', ','};
          s[rng() % s.size()] = kInteresting[rng() % sizeof(kInteresting)];
        }
        break;
    }
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGALRM, OnHang);
  std::vector<std::string> seeds;
  for (int i = 1; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "cannot read seed %s\n", argv[i]);
      return 1;
    }
    seeds.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  if (seeds.empty()) seeds.emplace_back();
  for (const auto& s : seeds) Run(s);
  const char* env = std::getenv("KSLICE_FUZZ_REPLAY_ITERATIONS");
  const long iterations = env != nullptr ? std::atol(env) : 20000;
  std::mt19937_64 rng(0x6b736c696365ULL);
  for (long i = 0; i < iterations; ++i) Run(Mutate(seeds, rng));
  std::printf("replayed %zu seeds and %ld mutations\n", seeds.size(), iterations);
  return 0;
}
