// The process's own figures under the names every Prometheus client library uses
// (process_resident_memory_bytes, process_open_fds, …), read from /proc at scrape time.
#pragma once
#include "metrics/exposition.h"

namespace raptor::metrics {

void write_process_figures(Exposition& out);

}  // namespace raptor::metrics
