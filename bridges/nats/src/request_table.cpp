#include "request_table.hpp"

#include <vector>

namespace courier::nats_detail {

using steady = std::chrono::steady_clock;

request_table::request_table() : expirer_{[this] { expire_loop(); }} {}

request_table::~request_table() {
  {
    std::lock_guard lock{mutex_};
    stopping_ = true;
  }
  wake_.notify_all();
  expirer_.join();
  fail_all(errc::disconnected);
}

std::uint64_t request_table::add(wire_reply_fn done, duration timeout) {
  std::unique_lock lock{mutex_};
  const std::uint64_t token = next_++;
  auto at = deadlines_.emplace(steady::now() + timeout, token);
  pending_.emplace(token, entry{std::move(done), at});
  const bool earliest = at == deadlines_.begin();
  lock.unlock();
  if (earliest) wake_.notify_one();
  return token;
}

bool request_table::complete(std::uint64_t token, result<wire_message> r) {
  wire_reply_fn done;
  {
    std::lock_guard lock{mutex_};
    auto it = pending_.find(token);
    if (it == pending_.end()) return false;
    deadlines_.erase(it->second.deadline);
    done = std::move(it->second.done);
    pending_.erase(it);
  }
  done(std::move(r));
  return true;
}

void request_table::fail_all(errc why) {
  std::vector<wire_reply_fn> failed;
  {
    std::lock_guard lock{mutex_};
    for (auto& [token, e] : pending_) failed.push_back(std::move(e.done));
    pending_.clear();
    deadlines_.clear();
  }
  for (auto& done : failed) done(why);
}

void request_table::expire_loop() {
  std::unique_lock lock{mutex_};
  while (!stopping_) {
    if (deadlines_.empty()) {
      wake_.wait(lock);
      continue;
    }
    // Copies: the entry may be erased while this thread waits.
    const auto [when, token] = *deadlines_.begin();
    if (when > steady::now()) {
      wake_.wait_until(lock, when);
      continue;
    }
    lock.unlock();
    complete(token, errc::timeout);
    lock.lock();
  }
}

}  // namespace courier::nats_detail
