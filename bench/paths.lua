-- wrk script: request the paths of a file (first argument after the URL) in order, cycling,
-- and print one machine-readable line (WRKJSON {...}) when done.
local paths = {}
local n, i = 0, 0

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then
      n = n + 1
      paths[n] = line
    end
  end
end

function request()
  i = i + 1
  if i > n then i = 1 end
  return wrk.format("GET", paths[i])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"errors_status":%d,"errors_connect":%d,' ..
    '"errors_read":%d,"errors_write":%d,"errors_timeout":%d,"p50_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
