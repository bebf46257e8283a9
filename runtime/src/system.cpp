#include "courier/runtime/system.hpp"

#include <stdexcept>

#include "courier/runtime/thread_pool.hpp"

namespace courier {

system::system(system_config cfg) {
  if (cfg.throughput == 0) throw std::invalid_argument("system_config::throughput must be positive");
  if (cfg.metrics && cfg.metrics_time_every == 0)
    throw std::invalid_argument("system_config::metrics_time_every must be positive");
  executor* exec = cfg.exec;
  if (exec == nullptr) {
    owned_exec_ = std::make_unique<thread_pool>(thread_pool::config{.workers = cfg.workers});
    exec = owned_exec_.get();
  }
  timers_ = cfg.timers;
  if (timers_ == nullptr) {
    owned_timers_ = std::make_unique<real_time_timers>();
    timers_ = owned_timers_.get();
  }
  core_ = new detail::system_core(*exec, *timers_, cfg.throughput, std::move(cfg.on_dead_letter));
  if (cfg.metrics) core_->enable_metrics(cfg.metrics_time_every);
}

system::~system() {
  shutdown();
  core_->release();
}

dead_letter_subscription system::subscribe_dead_letters(dead_letter_sink sink) {
  const auto& hub = core_->hub();
  return dead_letter_subscription{hub, hub->add(std::move(sink))};
}

bool system::await_idle(std::chrono::steady_clock::time_point deadline) {
  return core_->exec().wait_idle(deadline);
}

void system::shutdown() noexcept {
  if (core_->stopping()) return;
  core_->begin_shutdown();
  core_->stop_all();
  if (owned_exec_)
    owned_exec_->shutdown();
  else
    core_->exec().wait_idle(std::chrono::steady_clock::time_point::max());
  core_->detach();
}

}  // namespace courier
