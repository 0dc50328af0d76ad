-- wrk script for bench/web-load.sh: requests either the URL given to wrk, or (when the
-- environment names a file of paths in HALVE_PATHS) a random path from that file per request;
-- at the end prints the latency percentiles the benchmark records, as RESULT lines.
local paths = {}
local file = os.getenv("HALVE_PATHS")
if file and #file > 0 then
  for line in io.lines(file) do
    if #line > 0 then paths[#paths + 1] = line end
  end
end

request = function()
  if #paths > 0 then
    return wrk.format("GET", paths[math.random(#paths)])
  end
  return wrk.format("GET")
end

done = function(summary, latency, requests)
  local tag = os.getenv("HALVE_TAG") or "run"
  local secs = summary.duration / 1e6
  io.write(string.format("RESULT %s_requests %d\n", tag, summary.requests))
  io.write(string.format("RESULT %s_errors %d\n", tag,
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.status + summary.errors.timeout))
  io.write(string.format("RESULT %s_rps %.1f\n", tag, summary.requests / secs))
  for _, p in ipairs({ 50, 95, 99 }) do
    io.write(string.format("RESULT %s_p%d_ms %.2f\n", tag, p, latency:percentile(p) / 1000))
  end
end
