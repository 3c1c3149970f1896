-- wrk's summary as one JSON line (bench/load.py): latency percentiles in microseconds,
-- requests, errors of every kind (connect, read, write, timeout, non-2xx/3xx status).
done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"p50_us": %d, "p95_us": %d, "p99_us": %d, "mean_us": %.0f, "requests": %d, ' ..
    '"duration_us": %d, "errors": %d, "status_errors": %d}\n',
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.mean,
    summary.requests, summary.duration,
    errors.connect + errors.read + errors.write + errors.timeout + errors.status,
    errors.status))
end
