#pragma once

#include <cstddef>
#include <functional>
#include <type_traits>
#include <utility>

#include "courier/runtime/message.hpp"

namespace courier {

namespace detail {
class actor_cell;
void add_ref(actor_cell* c) noexcept;
void release(actor_cell* c) noexcept;
bool enqueue(actor_cell* c, mail_hook* h) noexcept;
bool enqueue_shared(actor_cell* c, message* m) noexcept;
void request_stop(actor_cell* c) noexcept;
}  // namespace detail

/// A cheap, copyable handle to an actor. It stays valid after the actor
/// stops: messages sent then become dead letters; they are never lost
/// without a count and never undefined behaviour.
class actor_ref {
 public:
  actor_ref() noexcept = default;
  actor_ref(const actor_ref& o) noexcept : cell_{o.cell_} { if (cell_) detail::add_ref(cell_); }
  actor_ref(actor_ref&& o) noexcept : cell_{std::exchange(o.cell_, nullptr)} {}
  actor_ref& operator=(actor_ref o) noexcept {
    std::swap(cell_, o.cell_);
    return *this;
  }
  ~actor_ref() { if (cell_) detail::release(cell_); }

  /// Sends a new message holding `m`. Returns true if it was queued, false if
  /// it became a dead letter (or this handle is empty). @threadsafe
  template <class M>
  bool send(M&& m) const {
    using T = std::remove_cvref_t<M>;
    static_assert(!std::is_same_v<T, message_ptr>, "use send_shared() for an existing message");
    if (cell_ == nullptr) return false;
    message* msg = make_message<T>(std::forward<M>(m)).detach();
    return detail::enqueue(cell_, msg->claim_new_hook());
  }

  /// Sends an existing message; the payload is shared, not copied. The
  /// first send of a message uses the hook built into it; later ones
  /// allocate a mail_node. @threadsafe
  bool send_shared(const message_ptr& m) const {
    if (cell_ == nullptr || !m) return false;
    return detail::enqueue_shared(cell_, m.get());
  }

  /// Sends through a caller-made node (a mail_node subclass that wants to
  /// know when the receiver is done). Takes ownership of `n`. @threadsafe
  bool send_node(mail_node* n) const {
    if (cell_ != nullptr) return detail::enqueue(cell_, n);
    message* msg = n->msg();
    if (!n->holds_ref()) msg->add_ref();  // before dispose() lets the maker drop its own
    message_ptr m = message_ptr::adopt(msg);
    n->done();
    n->dispose();
    return false;
  }

  /// Asks the actor to stop after the handler it is running, if any.
  /// Messages still queued become dead letters with reason `stopped`. @threadsafe
  void stop() const noexcept { if (cell_) detail::request_stop(cell_); }

  explicit operator bool() const noexcept { return cell_ != nullptr; }
  friend bool operator==(const actor_ref&, const actor_ref&) noexcept = default;

  /// A number unique among live actors, for logs and hashing.
  [[nodiscard]] std::size_t id() const noexcept { return reinterpret_cast<std::size_t>(cell_); }

  /// Adopts a reference the caller already counted.
  static actor_ref adopt(detail::actor_cell* c) noexcept {
    actor_ref r;
    r.cell_ = c;
    return r;
  }
  [[nodiscard]] detail::actor_cell* cell() const noexcept { return cell_; }

 private:
  detail::actor_cell* cell_ = nullptr;
};

}  // namespace courier

template <>
struct std::hash<courier::actor_ref> {
  std::size_t operator()(const courier::actor_ref& r) const noexcept { return r.id(); }
};
