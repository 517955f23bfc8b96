// The ingestion counters the server's self-metrics read, and the slots that bound how many
// batches are stored at once.
#include "pganalytics/net/http.hpp"
#include "pganalytics/server/ingest.hpp"

namespace pga::server::ingest {

std::uint64_t Counters::rows_of(std::string_view family) const {
  const auto* spec = metrics::find_family(family);
  return spec ? rows_by_family[static_cast<std::size_t>(spec - metrics::families().data())].load() : 0;
}

void Counters::record_stored(const Batch& batch) {
  ++batches_stored;
  samples_expired += batch.expired_samples;
  for (const auto& sample : batch.samples) {
    const auto* family = batch.families[sample.family_slot].family;
    rows_by_family[static_cast<std::size_t>(family - metrics::families().data())] += sample.row_count();
  }
}

Counters& counters() {
  static Counters instance;
  return instance;
}

Slot::Slot(Counters& counters, std::size_t capacity) : counters_(counters) {
  if (counters_.in_flight.fetch_add(1) >= capacity) {
    --counters_.in_flight;
    ++counters_.batches_overloaded;
    throw net::ApiError(503, "overloaded", "the server is storing as many batches as it can; retry later")
        .with_header("Retry-After", "2");
  }
}

Slot::~Slot() { --counters_.in_flight; }

}  // namespace pga::server::ingest
