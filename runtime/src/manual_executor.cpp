#include "courier/runtime/manual_executor.hpp"

#include <utility>

namespace courier {

bool manual_executor::run_one() noexcept {
  if (ready_.empty()) return false;
  std::size_t i = static_cast<std::size_t>(rng_.below(ready_.size()));
  if (on_turn_) on_turn_(ready_.size(), i);
  std::swap(ready_[i], ready_.back());
  runnable* r = ready_.back();
  ready_.pop_back();
  r->run();
  return true;
}

std::size_t manual_executor::run(std::size_t limit) noexcept {
  std::size_t turns = 0;
  while (turns < limit && run_one()) ++turns;
  return turns;
}

}  // namespace courier
