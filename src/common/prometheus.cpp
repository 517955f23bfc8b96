// Text exposition format 0.0.4: HELP and TYPE lines, label values escaped, histogram buckets
// cumulative with +Inf, _sum and _count.
#include "pganalytics/common/prometheus.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace pga::prometheus {
namespace {

std::string escape_label(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string label_text(const std::vector<std::string>& names, const Labels& values, const std::string& extra = {}) {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < values.size(); ++i)
    out += fmt::format("{}{}=\"{}\"", out.empty() ? "" : ",", names[i], escape_label(values[i]));
  if (!extra.empty()) out += (out.empty() ? "" : ",") + extra;
  return out.empty() ? "" : "{" + out + "}";
}

std::string number(double value) {
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (std::isnan(value)) return "NaN";
  return fmt::format("{}", value);
}

}  // namespace

void Registry::Counter::inc(const Labels& labels, double by) {
  std::lock_guard lock(mutex_);
  values_[labels] += by;
}

void Registry::Histogram::observe(const Labels& labels, double value) {
  std::lock_guard lock(mutex_);
  auto& series = series_[labels];
  if (series.buckets.empty()) series.buckets.assign(bounds_.size(), 0);
  for (std::size_t i = 0; i < bounds_.size(); ++i)
    if (value <= bounds_[i]) ++series.buckets[i];
  series.sum += value;
  ++series.count;
}

Registry::Counter& Registry::counter(std::string name, std::string help, std::vector<std::string> label_names) {
  std::lock_guard lock(mutex_);
  auto family = std::make_unique<Family>(Family{std::move(name), std::move(help), "counter", std::move(label_names),
                                                std::make_unique<Counter>(), nullptr, nullptr});
  auto& handle = *family->counter;
  families_.push_back(std::move(family));
  return handle;
}

Registry::Histogram& Registry::histogram(std::string name, std::string help, std::vector<std::string> label_names,
                                         std::vector<double> bounds) {
  std::lock_guard lock(mutex_);
  std::sort(bounds.begin(), bounds.end());
  auto histogram = std::make_unique<Histogram>();
  histogram->bounds_ = std::move(bounds);
  auto family = std::make_unique<Family>(Family{std::move(name), std::move(help), "histogram", std::move(label_names),
                                                nullptr, std::move(histogram), nullptr});
  auto& handle = *family->histogram;
  families_.push_back(std::move(family));
  return handle;
}

void Registry::gauge(std::string name, std::string help, std::function<double()> read) {
  collected(std::move(name), std::move(help), "gauge", {}, [read = std::move(read)] { return Series{{{}, read()}}; });
}

void Registry::collected(std::string name, std::string help, std::string type, std::vector<std::string> label_names,
                         std::function<Series()> read) {
  std::lock_guard lock(mutex_);
  families_.push_back(std::make_unique<Family>(Family{std::move(name), std::move(help), std::move(type),
                                                      std::move(label_names), nullptr, nullptr, std::move(read)}));
}

std::string Registry::render() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& f : families_) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", f->name, f->help, f->name, f->type);
    if (f->read) {
      for (const auto& [labels, value] : f->read())
        out += fmt::format("{}{} {}\n", f->name, label_text(f->label_names, labels), number(value));
    } else if (f->counter) {
      std::lock_guard series_lock(f->counter->mutex_);
      for (const auto& [labels, value] : f->counter->values_)
        out += fmt::format("{}{} {}\n", f->name, label_text(f->label_names, labels), number(value));
    } else {
      std::lock_guard series_lock(f->histogram->mutex_);
      for (const auto& [labels, series] : f->histogram->series_) {
        for (std::size_t i = 0; i < f->histogram->bounds_.size(); ++i)
          out += fmt::format("{}_bucket{} {}\n", f->name,
                             label_text(f->label_names, labels, "le=\"" + number(f->histogram->bounds_[i]) + "\""),
                             series.buckets[i]);
        out += fmt::format("{}_bucket{} {}\n", f->name, label_text(f->label_names, labels, "le=\"+Inf\""), series.count);
        out += fmt::format("{}_sum{} {}\n", f->name, label_text(f->label_names, labels), number(series.sum));
        out += fmt::format("{}_count{} {}\n", f->name, label_text(f->label_names, labels), series.count);
      }
    }
  }
  return out;
}

}  // namespace pga::prometheus
