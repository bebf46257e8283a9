#include "courier/runtime/prometheus_writer.hpp"

#include <fmt/format.h>

#include <array>
#include <stdexcept>

namespace courier {
namespace {

bool name_start(char c, bool colon) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
}

bool name_char(char c, bool colon) noexcept { return name_start(c, colon) || (c >= '0' && c <= '9'); }

bool valid_name(std::string_view s, bool colon) noexcept {
  if (s.empty() || !name_start(s.front(), colon)) return false;
  for (char c : s)
    if (!name_char(c, colon)) return false;
  return true;
}

const char* type_word(prometheus_writer::kind k) noexcept {
  switch (k) {
    case prometheus_writer::kind::counter: return "counter";
    case prometheus_writer::kind::gauge: return "gauge";
    case prometheus_writer::kind::histogram: return "histogram";
  }
  return "untyped";
}

// HELP text escapes backslash and newline only.
void escape_help(std::string& out, std::string_view s) {
  for (char c : s) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
}

// 15 significant digits: a scaled bound such as 7 * 1e-9 prints as 7e-09,
// not as the product's last-bit noise.
std::string decimal(double v) { return fmt::format("{:.15g}", v); }

}  // namespace

bool prometheus_writer::valid_metric_name(std::string_view s) noexcept { return valid_name(s, true); }

bool prometheus_writer::valid_label_name(std::string_view s) noexcept {
  return valid_name(s, false) && !s.starts_with("__");
}

void prometheus_writer::escape_label_value(std::string& out, std::string_view v) {
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
}

void prometheus_writer::family(std::string_view name, kind k, std::string_view help) {
  if (!valid_metric_name(name)) throw std::invalid_argument(fmt::format("invalid metric name '{}'", name));
  if (k == kind::counter && !name.ends_with("_total"))
    throw std::invalid_argument(fmt::format("counter '{}' must end in _total", name));
  if (!seen_.emplace(name).second) throw std::invalid_argument(fmt::format("metric '{}' written twice", name));
  current_ = name;
  kind_ = k;
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  escape_help(out_, help);
  out_ += fmt::format("\n# TYPE {} {}\n", name, type_word(k));
}

void prometheus_writer::require(kind k) const {
  if (current_.empty()) throw std::invalid_argument("a sample needs a family first");
  if ((k == kind::histogram) != (kind_ == kind::histogram))
    throw std::invalid_argument(fmt::format("wrong sample kind for metric '{}'", current_));
}

void prometheus_writer::series(std::string_view suffix, labels ls, const label* extra) {
  out_ += current_;
  out_ += suffix;
  if (ls.empty() && extra == nullptr) return;
  char sep = '{';
  auto put = [&](const label& l) {
    if (!valid_label_name(l.name) || (extra != nullptr && l.name == "le" && &l != extra))
      throw std::invalid_argument(fmt::format("invalid label name '{}' on '{}'", l.name, current_));
    out_ += sep;
    out_ += l.name;
    out_ += "=\"";
    escape_label_value(out_, l.value);
    out_ += '"';
    sep = ',';
  };
  for (const label& l : ls) put(l);
  if (extra != nullptr) put(*extra);
  out_ += '}';
}

void prometheus_writer::sample(labels ls, std::uint64_t value) {
  require(kind::counter);
  series("", ls, nullptr);
  out_ += fmt::format(" {}\n", value);
}

void prometheus_writer::histogram(labels ls, const histogram_snapshot& h, std::span<const std::uint64_t> bounds,
                                  double scale) {
  require(kind::histogram);
  std::uint64_t cumulative = 0;
  std::size_t next = 0;  // the first bucket not yet added
  for (std::uint64_t bound : bounds) {
    while (next < h.buckets.size() && histogram_buckets::upper_bound(next) <= bound) cumulative += h.buckets[next++];
    const std::string le = decimal(static_cast<double>(bound) * scale);
    const label l{"le", le};
    series("_bucket", ls, &l);
    out_ += fmt::format(" {}\n", cumulative);
  }
  while (next < h.buckets.size()) cumulative += h.buckets[next++];
  // +Inf and _count both come from the buckets, so they agree even when the
  // snapshot was read while writers were recording.
  const label inf{"le", "+Inf"};
  series("_bucket", ls, &inf);
  out_ += fmt::format(" {}\n", cumulative);
  series("_sum", ls, nullptr);
  out_ += ' ' + decimal(static_cast<double>(h.sum) * scale) + '\n';
  series("_count", ls, nullptr);
  out_ += fmt::format(" {}\n", cumulative);
}

std::span<const std::uint64_t> prometheus_writer::nanosecond_bounds() noexcept {
  static constexpr std::array<std::uint64_t, 15> bounds = [] {
    std::array<std::uint64_t, 15> b{};
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = (std::uint64_t{1} << (5 + 2 * i)) - 1;
    return b;
  }();
  return bounds;
}

}  // namespace courier
