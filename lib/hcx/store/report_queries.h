// Streaming reads for `hcx report --export` (owned by the report work; the
// rest of store/ is the store's): every metric row of many runs without
// holding them in memory. Read-only; any Db will do.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hcx/store/db.h"

namespace hcx::store {

// Calls `fn` for every metrics row of the runs `run_ids` (nothing when the
// list is empty), ordered by run id, metric name, step. The views are valid
// during the call only; value is nullopt for a NULL. One query, stepped row
// by row: constant memory at any size. Throws Error(kIo) on a SQLite failure.
using MetricRowFn =
    std::function<void(std::string_view run_id, std::string_view name, int64_t step, std::optional<double> value)>;
void for_each_metric_row(const Db& db, const std::vector<std::string>& run_ids, const MetricRowFn& fn);

}  // namespace hcx::store
