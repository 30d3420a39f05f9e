// Generated clustered vectors for the vector benchmarks, the same in every build.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace on::bench {

// Deterministic generator (SplitMix64 and Box-Muller), independent of the standard library's
// distributions, so every build produces the same vectors.
class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}

  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

  float Normal() {
    const double u1 = std::max(Uniform(), 1e-300);
    const double u2 = Uniform();
    return static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2));
  }

 private:
  uint64_t state_;
};

// Clustered vectors. Each cluster has a centre and a basis of kClusterRank random directions. A
// point is its centre plus a random combination of that basis plus small isotropic noise.
class ClusteredGenerator {
 public:
  static constexpr size_t kClusterRank = 16;
  // Centres and basis directions have an expected norm of 1. kSpread is the standard deviation of
  // each basis weight, and kNoise the expected norm of the isotropic noise.
  static constexpr float kSpread = 0.15F;
  static constexpr float kNoise = 0.2F;

  ClusteredGenerator(uint32_t dimension, size_t clusters, uint64_t seed)
      : dimension_(dimension), clusters_(clusters), random_(seed) {
    centres_.resize(clusters * dimension);
    for (float& value : centres_) value = random_.Normal() / std::sqrt(static_cast<float>(dimension));
    basis_.resize(clusters * kClusterRank * dimension);
    for (float& value : basis_) value = random_.Normal() / std::sqrt(static_cast<float>(dimension));
  }

  void Append(std::vector<float>& out) {
    const size_t cluster = random_.Next() % clusters_;
    const size_t start = out.size();
    out.insert(out.end(), centres_.begin() + cluster * dimension_,
               centres_.begin() + (cluster + 1) * dimension_);
    for (size_t r = 0; r < kClusterRank; ++r) {
      const float weight = kSpread * random_.Normal();
      const float* direction = &basis_[(cluster * kClusterRank + r) * dimension_];
      for (uint32_t d = 0; d < dimension_; ++d) out[start + d] += weight * direction[d];
    }
    const float noise = kNoise / std::sqrt(static_cast<float>(dimension_));
    for (uint32_t d = 0; d < dimension_; ++d) out[start + d] += noise * random_.Normal();
  }

 private:
  uint32_t dimension_;
  size_t clusters_;
  Random random_;
  std::vector<float> centres_;
  std::vector<float> basis_;
};

}  // namespace on::bench
