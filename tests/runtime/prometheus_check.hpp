#pragma once

// A line-by-line checker of the Prometheus text exposition format (0.0.4),
// written from the format's rules, for the metrics tests.

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace courier::test {

struct prom_sample {
  std::string name;                           // as written, e.g. x_bucket
  std::map<std::string, std::string> labels;  // values unescaped
  double value = 0;
};

struct prom_parse {
  std::vector<std::string> errors;
  std::map<std::string, std::string> types;  // family -> counter|gauge|histogram
  std::vector<prom_sample> samples;

  /// The value of the one sample named `name` with exactly `labels`, or NaN.
  [[nodiscard]] double value(const std::string& name, const std::map<std::string, std::string>& labels = {}) const {
    for (const auto& s : samples)
      if (s.name == name && s.labels == labels) return s.value;
    return std::nan("");
  }
};

inline bool prom_name(const std::string& s, bool colon) {
  auto start = [&](char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || (colon && c == ':'); };
  if (s.empty() || !start(s[0])) return false;
  for (char c : s)
    if (!start(c) && !std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

inline double prom_number(const std::string& v, bool& ok) {
  ok = true;
  if (v == "+Inf") return HUGE_VAL;
  if (v == "-Inf") return -HUGE_VAL;
  if (v == "NaN") return std::nan("");
  char* end = nullptr;
  double d = std::strtod(v.c_str(), &end);
  ok = !v.empty() && end == v.c_str() + v.size();
  return d;
}

// Parses `{a="x",b="y"}` starting at line[i] == '{'; advances i past '}'.
inline bool prom_labels(const std::string& line, std::size_t& i, std::map<std::string, std::string>& out,
                        std::string& err) {
  ++i;
  while (i < line.size() && line[i] != '}') {
    std::size_t eq = line.find('=', i);
    if (eq == std::string::npos) return err = "label without '='", false;
    std::string name = line.substr(i, eq - i);
    if (!prom_name(name, false) || name.rfind("__", 0) == 0) return err = "bad label name '" + name + "'", false;
    if (eq + 1 >= line.size() || line[eq + 1] != '"') return err = "label value not quoted", false;
    std::string value;
    std::size_t j = eq + 2;
    for (; j < line.size() && line[j] != '"'; ++j) {
      if (line[j] != '\\') {
        value += line[j];
        continue;
      }
      if (++j >= line.size()) return err = "dangling backslash", false;
      if (line[j] == '\\') value += '\\';
      else if (line[j] == '"') value += '"';
      else if (line[j] == 'n') value += '\n';
      else return err = std::string{"bad escape \\"} + line[j], false;
    }
    if (j >= line.size()) return err = "unterminated label value", false;
    if (!out.emplace(name, value).second) return err = "duplicate label " + name, false;
    i = j + 1;
    if (i < line.size() && line[i] == ',') ++i;
  }
  if (i >= line.size()) return err = "unterminated label set", false;
  ++i;
  return true;
}

/// The family a sample belongs to: its name, or for a histogram's series the
/// name without _bucket/_sum/_count.
inline std::string prom_family(const prom_parse& p, const std::string& name) {
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    const std::string s = suffix;
    if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
      std::string base = name.substr(0, name.size() - s.size());
      auto it = p.types.find(base);
      if (it != p.types.end() && it->second == "histogram") return base;
    }
  }
  return name;
}

inline void prom_check_line(prom_parse& p, std::set<std::string>& helped, const std::string& line) {
  auto fail = [&](const std::string& why) { p.errors.push_back(why + ": " + line); };
  if (line.rfind("# HELP ", 0) == 0) {
    std::string name = line.substr(7, line.find(' ', 7) - 7);
    if (!prom_name(name, true)) return fail("bad HELP name");
    if (!helped.insert(name).second) fail("second HELP");
    return;
  }
  if (line.rfind("# TYPE ", 0) == 0) {
    std::istringstream in{line.substr(7)};
    std::string name, type, rest;
    in >> name >> type;
    if (!prom_name(name, true)) return fail("bad TYPE name");
    if (type != "counter" && type != "gauge" && type != "histogram") return fail("unknown type");
    if (type == "counter" && !name.ends_with("_total")) fail("counter not ending in _total");
    if (in >> rest) fail("trailing text after TYPE");
    if (!p.types.emplace(name, type).second) fail("second TYPE");
    return;
  }
  if (line.empty() || line[0] == '#') return fail("unexpected line");
  prom_sample s;
  std::size_t i = 0;
  while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
  s.name = line.substr(0, i);
  if (!prom_name(s.name, true)) return fail("bad metric name");
  std::string err;
  if (i < line.size() && line[i] == '{' && !prom_labels(line, i, s.labels, err)) return fail(err);
  if (i >= line.size() || line[i] != ' ') return fail("no space before value");
  bool ok = false;
  s.value = prom_number(line.substr(i + 1), ok);
  if (!ok) return fail("bad value");
  const std::string family = prom_family(p, s.name);
  auto type = p.types.find(family);
  if (type == p.types.end()) return fail("sample before its TYPE");
  if (type->second == "counter" && !(s.value >= 0)) fail("negative counter");
  if ((s.name.ends_with("_bucket")) != s.labels.contains("le") && type->second == "histogram")
    fail("le label only and always on _bucket");
  p.samples.push_back(std::move(s));
}

// Per histogram series: ascending le, monotone cumulative counts, +Inf last
// and equal to _count, and a _sum.
inline void prom_check_histograms(prom_parse& p) {
  struct series {
    std::vector<std::pair<double, double>> buckets;
    bool has_sum = false, has_count = false;
    double count = 0;
  };
  std::map<std::string, series> all;
  for (const auto& s : p.samples) {
    const std::string family = prom_family(p, s.name);
    if (p.types[family] != "histogram") continue;
    auto labels = s.labels;
    labels.erase("le");
    std::string key = family;
    for (const auto& [k, v] : labels) key += "|" + k + "=" + v;
    series& h = all[key];
    if (s.name == family + "_bucket") {
      bool ok = false;
      h.buckets.emplace_back(prom_number(s.labels.at("le"), ok), s.value);
      if (!ok) p.errors.push_back("bad le in " + key);
    } else if (s.name == family + "_sum") {
      h.has_sum = true;
    } else {
      h.has_count = true;
      h.count = s.value;
    }
  }
  for (const auto& [key, h] : all) {
    if (!h.has_sum || !h.has_count || h.buckets.empty()) p.errors.push_back("incomplete histogram " + key);
    for (std::size_t i = 1; i < h.buckets.size(); ++i)
      if (!(h.buckets[i].first > h.buckets[i - 1].first) || h.buckets[i].second < h.buckets[i - 1].second)
        p.errors.push_back("buckets not ascending and cumulative in " + key);
    if (h.buckets.empty() || !std::isinf(h.buckets.back().first)) p.errors.push_back("no +Inf bucket in " + key);
    else if (h.buckets.back().second != h.count) p.errors.push_back("+Inf != _count in " + key);
  }
}

/// Checks `text` line by line against the exposition format; errors are
/// collected in the result.
inline prom_parse check_prometheus(const std::string& text) {
  prom_parse p;
  if (!text.empty() && text.back() != '\n') p.errors.push_back("no final newline");
  std::set<std::string> helped;
  std::istringstream in{text};
  for (std::string line; std::getline(in, line);) prom_check_line(p, helped, line);
  for (const auto& [family, type] : p.types)
    if (!helped.contains(family)) p.errors.push_back("no HELP for " + family);
  prom_check_histograms(p);
  return p;
}

}  // namespace courier::test
