// Random numbers for the data module (plain C++): a counter-based hash for
// batch sampling, so that a batch depends only on its key (seed, step,
// micro-batch, row) and never on what was drawn before (README "Runs,
// sweeps and the database"), and a small SplitMix64 stream for the
// synthetic generator.
// Both are pure functions of their inputs on every platform.
#pragma once

#include <cstdint>
#include <initializer_list>

namespace hcx::data {

// SplitMix64's finaliser (Steele, Lea, Flood 2014): a bijective 64-bit mix
// whose output bits each depend on every input bit.
constexpr uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Hash of a tuple of counters, e.g. hash_key({domain, seed, step, micro, row}).
// Order matters; equal tuples give equal hashes.
inline uint64_t hash_key(std::initializer_list<uint64_t> parts) {
  uint64_t h = 0x243f6a8885a308d3ULL;  // pi's fraction: any fixed start works
  for (uint64_t p : parts) h = mix64(h + 0x9e3779b97f4a7c15ULL + p);
  return h;
}

// Maps a 64-bit hash to [0, n) by Lemire's multiply-shift (bias < n / 2^64).
inline uint64_t below(uint64_t h, uint64_t n) {
  return static_cast<uint64_t>((static_cast<unsigned __int128>(h) * n) >> 64);
}

// FNV-1a over bytes: a stable 64-bit fingerprint for cache keys and seeds.
inline uint64_t fnv1a(const void* data, uint64_t size, uint64_t h = 0xcbf29ce484222325ULL) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (uint64_t i = 0; i < size; ++i) h = (h ^ p[i]) * 0x100000001b3ULL;
  return h;
}

// SplitMix64 stream: a tiny, fast, statistically sound generator. Not
// thread-safe; one per generator.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    state_ += 0x9e3779b97f4a7c15ULL;
    return mix64(state_);
  }
  // Uniform in [0, n); n > 0.
  uint64_t below(uint64_t n) { return data::below(next(), n); }
  // Uniform in [lo, hi], inclusive.
  int64_t range(int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(below(static_cast<uint64_t>(hi - lo + 1))); }
  // Uniform in [0, 1).
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  bool chance(double p) { return uniform() < p; }

 private:
  uint64_t state_;
};

}  // namespace hcx::data
