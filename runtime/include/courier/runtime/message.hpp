#pragma once

#include <atomic>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "courier/runtime/memory.hpp"
#include "courier/runtime/mpsc_queue.hpp"
#include "courier/runtime/sharing.hpp"
#include "courier/runtime/type_id.hpp"

namespace courier {

class message;
class message_ptr;

/// Where a handler's return value goes when a message is a request.
class reply_channel {
 public:
  /// Delivers the handler's result. Called at most once per request message.
  virtual void reply(message_ptr response) noexcept = 0;
  /// Reports that the handler threw, with the exception's text.
  virtual void fail(const char* what) noexcept = 0;

 protected:
  ~reply_channel() = default;
};

/// Metadata a layer above the runtime (the bus's envelope) attaches to a
/// message. The runtime only reads its reply channel.
struct message_meta {
  reply_channel* replies = nullptr;
};

/// A message's place in one mailbox. Every message embeds one hook for its
/// first receiver; a fan-out to more receivers allocates a mail_node each.
struct mail_hook : mpsc_hook {
  [[nodiscard]] message* msg() const noexcept { return msg_.load(std::memory_order_relaxed); }
  // Atomic because a message's built-in hook is claimed with a CAS on it
  // while another receiver may read it; relaxed, because the mailbox push
  // and pop order everything else.
  std::atomic<message*> msg_{nullptr};
};

/// An immutable, reference-counted payload. Handlers receive `const T&`, so
/// one message can be shared by any number of receivers without copying.
class message : public detail::uses_courier_allocator {
 public:
  message(const message&) = delete;
  message& operator=(const message&) = delete;

  [[nodiscard]] type_id type() const noexcept { return type_; }

  /// The payload as T. @pre type() == type_id_of<T>().
  template <class T>
  [[nodiscard]] const T& as() const noexcept;

  template <sharing S = sharing::shared>
  void add_ref() const noexcept {
    atomics<S>::fetch_add(refs_, 1u, std::memory_order_relaxed);
  }

  /// Drops one reference; `s` is how the remaining owners share the message.
  void release(sharing s = sharing::shared) const noexcept {
    // A sole owner skips the atomic RMW: nobody else can be reading refs_.
    if (refs_.load(std::memory_order_acquire) == 1 ||
        // acq_rel: the last release must see every other owner's reads of the payload.
        (s == sharing::confined ? atomics<sharing::confined>::fetch_sub(refs_, 1u, std::memory_order_acq_rel)
                                : refs_.fetch_sub(1, std::memory_order_acq_rel)) == 1)
      delete this;
  }

  /// The hook built into the message, for the first mailbox it is pushed to.
  [[nodiscard]] const mail_hook& own_hook() const noexcept { return hook_; }
  /// Claims the built-in hook of a message nobody else holds yet.
  mail_hook* claim_new_hook() noexcept {
    hook_.msg_.store(this, std::memory_order_relaxed);
    return &hook_;
  }
  /// Claims the built-in hook for one mailbox, once in the message's life:
  /// nullptr when already claimed, and the push needs a mail_node. @threadsafe
  template <sharing S = sharing::shared>
  mail_hook* claim_hook() noexcept {
    // An exchange, not a CAS: a claimed hook only ever holds `this`, so
    // writing it again changes nothing. relaxed: the claim orders nothing;
    // the mailbox push publishes the hook.
    return atomics<S>::exchange(hook_.msg_, this, std::memory_order_relaxed) == nullptr ? &hook_ : nullptr;
  }

  /// Metadata attached by the bus, or nullptr for a plain message.
  [[nodiscard]] virtual const message_meta* meta() const noexcept { return nullptr; }

 protected:
  explicit message(type_id t) noexcept : type_{t} {}
  virtual ~message() = default;

 private:
  mutable std::atomic<std::uint32_t> refs_{1};
  type_id type_;
  mail_hook hook_;  // its msg is null until claimed
};

template <class T>
class message_box : public message {
 public:
  template <class... Args>
  explicit message_box(std::in_place_t, Args&&... args)
      : message{type_id_of<T>()}, value_{std::forward<Args>(args)...} {}
  const T& value() const noexcept { return value_; }

 private:
  const T value_;
};

template <class T>
const T& message::as() const noexcept {
  return static_cast<const message_box<T>*>(this)->value();
}

/// An extra mailbox slot for a shared message; owns one reference to it.
/// Subclasses learn when the receiver is done with the message.
struct mail_node : mail_hook, detail::uses_courier_allocator {
  /// Tag for a node that holds no reference of its own: its maker keeps the
  /// message alive until the node's dispose() (a batch of nodes holding one).
  struct borrowed_t {};
  static constexpr borrowed_t borrowed{};

  explicit mail_node(message* m) noexcept : mail_node{m, sharing::shared} {}
  mail_node(message* m, borrowed_t) noexcept : holds_ref_{false} { msg_.store(m, std::memory_order_relaxed); }
  /// With sharing::confined, for a message no other thread holds.
  mail_node(message* m, sharing s) noexcept {
    if (s == sharing::confined)
      m->add_ref<sharing::confined>();
    else
      m->add_ref();
    msg_.store(m, std::memory_order_relaxed);
  }
  /// Asked in the receiver's turn, just before its handler would run, when
  /// `screens` is set: false discards the message unhandled. Lets a sender
  /// move per-message work (the bus's inbox dedupe) onto the receiver.
  virtual bool accept() noexcept { return true; }
  /// Called when this node is next in line after a screening node whose
  /// accept() is about to run: a hint to start fetching what its own accept() reads.
  virtual void prepare() noexcept {}
  /// Called once the receiver handled, discarded or dead-lettered the
  /// message; the node's reference to it (if it holds one) has already been
  /// handed on or released.
  virtual void done() noexcept {}
  /// Frees the node after done(). A node allocated with others (a batch)
  /// overrides it to give its share of the batch back.
  virtual void dispose() noexcept { delete this; }
  virtual ~mail_node() = default;

  bool screens = false;  ///< Whether the receiver asks accept() first.
  /// Whether the node holds a reference to its message (all but borrowed ones).
  [[nodiscard]] bool holds_ref() const noexcept { return holds_ref_; }

 private:
  bool holds_ref_ = true;
};

/// A counted reference to a message.
class message_ptr {
 public:
  message_ptr() noexcept = default;
  /// Adopts one reference held by the caller.
  static message_ptr adopt(message* m) noexcept { return message_ptr{m}; }
  message_ptr(const message_ptr& o) noexcept : m_{o.m_} { if (m_) m_->add_ref(); }
  message_ptr(message_ptr&& o) noexcept : m_{std::exchange(o.m_, nullptr)} {}
  message_ptr& operator=(message_ptr o) noexcept {
    std::swap(m_, o.m_);
    return *this;
  }
  ~message_ptr() { if (m_) m_->release(); }

  message* get() const noexcept { return m_; }
  message& operator*() const noexcept { return *m_; }
  message* operator->() const noexcept { return m_; }
  explicit operator bool() const noexcept { return m_ != nullptr; }
  /// Gives up ownership of the reference without releasing it.
  message* detach() noexcept { return std::exchange(m_, nullptr); }

 private:
  explicit message_ptr(message* m) noexcept : m_{m} {}
  message* m_ = nullptr;
};

/// Builds a message holding a T constructed from `args`.
template <class T, class... Args>
message_ptr make_message(Args&&... args) {
  return message_ptr::adopt(new message_box<T>(std::in_place, std::forward<Args>(args)...));
}

}  // namespace courier
