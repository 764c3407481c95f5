-- wrk script for the load test (tests/serve/test_load.py): POSTs one fixed inference request
-- and counts every response whose status or bytes differ from the expected ones.
-- Environment: KRT_PATH (URL path), KRT_BODY (request body file), KRT_HEADER_LENGTH
-- (Inference-Header-Content-Length, or empty for plain JSON), KRT_EXPECTED (response body file).
local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local data = f:read("*a")
  f:close()
  return data
end

wrk.method = "POST"
wrk.path = os.getenv("KRT_PATH")
wrk.body = slurp(os.getenv("KRT_BODY"))
wrk.headers["Content-Type"] = "application/octet-stream"
local header_length = os.getenv("KRT_HEADER_LENGTH")
if header_length and header_length ~= "" then
  wrk.headers["Inference-Header-Content-Length"] = header_length
end
local expected = slurp(os.getenv("KRT_EXPECTED"))

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

wrong = 0
function response(status, headers, body)
  if status ~= 200 or body ~= expected then
    wrong = wrong + 1
  end
end

function done(summary, latency, requests)
  local total_wrong = 0
  for _, t in ipairs(threads) do
    total_wrong = total_wrong + t:get("wrong")
  end
  -- One line for the driver to parse.
  io.write(string.format(
    "KRT_RESULT requests=%d duration_us=%d wrong=%d errors=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration, total_wrong,
    summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.status + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
