-- wrk script for the load test (tests/serve/test_load.py): POSTs one fixed inference request
-- and counts every wrong response: another status, another JSON header, or an output float
-- further than 1e-5 of the largest expected value from the expected one (a batch may run a layer
-- with another kernel than one request alone, which changes the last bits, never more).
-- Environment: KRT_PATH (URL path), KRT_BODY (request body file), KRT_HEADER_LENGTH
-- (Inference-Header-Content-Length, or empty for plain JSON), KRT_EXPECTED (response body file),
-- KRT_EXPECTED_HEADER_LENGTH (the JSON part of that response; float32 data follows it).
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
local json_length = tonumber(os.getenv("KRT_EXPECTED_HEADER_LENGTH"))
local ffi = require("ffi")
local count = (#expected - json_length) / 4
local want = ffi.new("float[?]", count)
ffi.copy(want, expected:sub(json_length + 1), count * 4)
local tolerance = 1
for i = 0, count - 1 do tolerance = math.max(tolerance, math.abs(want[i])) end
tolerance = 1e-5 * tolerance
local got = ffi.new("float[?]", count)

local function matches(body)
  if #body ~= #expected or body:sub(1, json_length) ~= expected:sub(1, json_length) then
    return false
  end
  ffi.copy(got, body:sub(json_length + 1), count * 4)
  for i = 0, count - 1 do
    if not (math.abs(got[i] - want[i]) <= tolerance) then return false end
  end
  return true
end

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

wrong = 0
function response(status, headers, body)
  if status ~= 200 or not matches(body) then
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
