-- wrk script for benchmarks/run: one request shape per run, figures printed as one JSON line.
--   BENCH_METHOD       GET (default) or POST
--   BENCH_LINES        optional: thread N reads "$BENCH_LINES.N"; each request sends the next line as its body
--                      (lines wrap around when they run out), so every request can carry a distinct token or event
--   BENCH_LINE_HEADER  optional: each line is "<value>\t<body>" and <value> goes out in this header
--   BENCH_SAMPLE_ERRORS optional: keep the first answer of status >= 400 of each thread, printed by done()
-- Static headers come from wrk's -H options.

local counter = 0
local threads = {}

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  threads[#threads + 1] = thread
end

if os.getenv("BENCH_SAMPLE_ERRORS") then
  sample = nil
  function response(status, headers, body)
    if status >= 400 and sample == nil then
      sample = status .. " " .. string.sub(body or "", 1, 160)
    end
  end
end

local lines, index, method, line_header, fixed = nil, 0, "GET", nil, nil

function init(args)
  method = os.getenv("BENCH_METHOD") or "GET"
  line_header = os.getenv("BENCH_LINE_HEADER")
  local prefix = os.getenv("BENCH_LINES")
  if prefix then
    lines = {}
    for line in io.lines(prefix .. "." .. id) do
      lines[#lines + 1] = line
    end
  else
    fixed = wrk.format(method)
  end
end

function request()
  if fixed then
    return fixed
  end
  index = index + 1
  local line = lines[((index - 1) % #lines) + 1]
  local headers = {}
  for name, value in pairs(wrk.headers) do
    headers[name] = value
  end
  if line_header then
    local tab = line:find("\t", 1, true)
    headers[line_header] = line:sub(1, tab - 1)
    line = line:sub(tab + 1)
  end
  return wrk.format(method, nil, headers, line)
end

function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    local seen = thread:get("sample")
    if seen then
      io.write("SAMPLE " .. string.gsub(seen, "\n", " ") .. "\n")
    end
  end
  local errors = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"non2xx":%d,"socket_errors":%d,"p50_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
