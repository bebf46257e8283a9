#pragma once

#include <cstdint>

namespace courier {

/// SplitMix64 (Steele, Lea and Flood, "Fast Splittable Pseudorandom Number
/// Generators", OOPSLA 2014): tiny, fast, and the same sequence on every
/// platform, which std::uniform_int_distribution does not promise.
class splitmix64 {
 public:
  explicit splitmix64(std::uint64_t seed) noexcept : state_{seed} {}

  std::uint64_t next() noexcept {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  /// The generator's state: what the next numbers follow from.
  [[nodiscard]] std::uint64_t state() const noexcept { return state_; }

  /// A number in [0, bound) (Lemire's multiply-shift; bias below 2^-32 for small bounds).
  std::uint64_t below(std::uint64_t bound) noexcept {
    __extension__ using u128 = unsigned __int128;
    return static_cast<std::uint64_t>((static_cast<u128>(next()) * bound) >> 64);
  }

 private:
  std::uint64_t state_;
};

}  // namespace courier
