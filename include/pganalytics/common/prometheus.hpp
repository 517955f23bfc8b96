// Self-metrics in the Prometheus text exposition format: labelled counters, gauges read at
// scrape time, and histograms. Families are registered once; updates are thread-safe.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace pga::prometheus {

using Labels = std::vector<std::string>;  // values, in the order of the family's label names

class Registry {
 public:
  // Each returns a handle that stays valid as long as the registry.
  class Counter {
   public:
    void inc(const Labels& labels = {}, double by = 1);

   private:
    friend class Registry;
    std::mutex mutex_;
    std::map<Labels, double> values_;
  };
  class Histogram {
   public:
    void observe(const Labels& labels, double value);

   private:
    friend class Registry;
    struct Series {
      std::vector<std::uint64_t> buckets;
      double sum = 0;
      std::uint64_t count = 0;
    };
    std::vector<double> bounds_;
    std::mutex mutex_;
    std::map<Labels, Series> series_;
  };

  Counter& counter(std::string name, std::string help, std::vector<std::string> label_names = {});
  Histogram& histogram(std::string name, std::string help, std::vector<std::string> label_names,
                       std::vector<double> bounds);
  // A gauge whose value is read when scraped (pool sizes, spool bytes, ...).
  void gauge(std::string name, std::string help, std::function<double()> read);
  // Series kept elsewhere (atomics) and read when scraped; `type` is "counter" or "gauge".
  using Series = std::vector<std::pair<Labels, double>>;
  void collected(std::string name, std::string help, std::string type, std::vector<std::string> label_names,
                 std::function<Series()> read);

  std::string render() const;

 private:
  struct Family {
    std::string name, help, type;
    std::vector<std::string> label_names;
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Histogram> histogram;
    std::function<Series()> read;
  };
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Family>> families_;
};

}  // namespace pga::prometheus
