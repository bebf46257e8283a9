#pragma once

#include <cstdint>

namespace courier {

/// A dense, process-wide number for a message type, used to index dispatch
/// tables. Numbers are handed out on first use, so they differ between runs
/// and must never be persisted or sent across a process boundary.
using type_id = std::uint32_t;

namespace detail {
type_id next_type_id() noexcept;
}

/// The type id of T (cv-ref qualifiers ignored). @threadsafe
template <class T>
type_id type_id_of() noexcept {
  static const type_id id = detail::next_type_id();
  return id;
}

}  // namespace courier
