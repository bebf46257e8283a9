#include "retired_msgs.hpp"

namespace courier::nats_detail {

void retired_msgs::retire(natsMsg* m) noexcept {
  std::array<natsMsg*, batch> full;
  {
    std::lock_guard lock{mutex_};
    msgs_[count_++] = m;
    if (count_ < batch) return;
    full = msgs_;
    count_ = 0;
  }
  for (natsMsg* dead : full) natsMsg_Destroy(dead);
}

void retired_msgs::drain() noexcept {
  std::array<natsMsg*, batch> left;
  std::size_t n = 0;
  {
    std::lock_guard lock{mutex_};
    left = msgs_;
    n = count_;
    count_ = 0;
  }
  for (std::size_t i = 0; i < n; ++i) natsMsg_Destroy(left[i]);
}

}  // namespace courier::nats_detail
