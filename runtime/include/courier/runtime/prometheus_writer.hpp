#pragma once

#include <cstdint>
#include <initializer_list>
#include <set>
#include <span>
#include <string>
#include <string_view>

#include "courier/runtime/histogram.hpp"

namespace courier {

/// Builds text in the Prometheus exposition format (version 0.0.4): each
/// family gets its HELP and TYPE lines, then its samples. Any module can
/// append its own families to the same writer, so one scrape returns all.
///
/// Names are checked ([a-zA-Z_:][a-zA-Z0-9_:]*, label names without ':' and
/// not starting with "__"), a counter's name must end in `_total`, and label
/// values are escaped. A bad name is a programming error: std::invalid_argument.
class prometheus_writer {
 public:
  enum class kind { counter, gauge, histogram };

  struct label {
    std::string_view name;
    std::string_view value;
  };
  using labels = std::span<const label>;

  /// Starts family `name`: writes its HELP and TYPE lines. Throws if the
  /// name is invalid or was used before.
  void family(std::string_view name, kind k, std::string_view help);

  /// One sample of the current counter or gauge family.
  void sample(labels ls, std::uint64_t value);
  void sample(std::initializer_list<label> ls, std::uint64_t value) { sample(labels{ls.begin(), ls.size()}, value); }

  /// One histogram of the current histogram family: cumulative `_bucket`
  /// lines at `bounds` (bucket upper bounds, in recorded units, ascending)
  /// and at +Inf, then `_sum` and `_count`. `scale` converts recorded units
  /// to exported ones (1e-9 for nanoseconds recorded, seconds exported).
  void histogram(labels ls, const histogram_snapshot& h, std::span<const std::uint64_t> bounds, double scale);

  /// The text written so far.
  [[nodiscard]] const std::string& text() const noexcept { return out_; }
  /// Moves the text out.
  [[nodiscard]] std::string take() && { return std::move(out_); }

  /// Bucket upper bounds for durations recorded in nanoseconds: 2^k - 1 ns
  /// for odd k from 5 to 33 (31 ns to 8.6 s). Each is a bucket edge of
  /// courier::histogram, so the cumulative counts exported at them are exact.
  static std::span<const std::uint64_t> nanosecond_bounds() noexcept;

  /// True if `s` is a valid metric name.
  static bool valid_metric_name(std::string_view s) noexcept;
  /// True if `s` is a valid label name (and not reserved).
  static bool valid_label_name(std::string_view s) noexcept;
  /// Appends `v` to `out` with backslash, double quote and newline escaped.
  static void escape_label_value(std::string& out, std::string_view v);

 private:
  void require(kind k) const;
  void series(std::string_view suffix, labels ls, const label* extra);

  std::string out_;
  std::string current_;
  kind kind_ = kind::gauge;
  std::set<std::string, std::less<>> seen_;
};

}  // namespace courier
