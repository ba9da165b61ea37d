-- wrk script for benchmarks/bench_service.py: replays simulated transactions (realistic traffic)
-- as POST /v1/transactions, each with a txn_id unique to this request and run.
-- args: key, run prefix, time shift (ms) for the first cycle, cycle span (ms), path of a JSON-lines
-- file of request bodies in time order, each starting {"txn_id":"...","ts_ms":N, (the order
-- bench_service.py writes). The file is read once at init; requests cycle through it, and each
-- cycle's timestamps move forward by the span, so the service's clock never goes backwards.
local threads_started = 0

function setup(thread)
  thread:set("tid", threads_started)
  threads_started = threads_started + 1
end

function init(args)
  key, prefix, shift, span, path = args[1], args[2], tonumber(args[3]), tonumber(args[4]), args[5]
  ids, times, rests = {}, {}, {}
  local n = 0
  for line in io.lines(path) do
    local id, ts, rest = line:match('^{"txn_id":"([^"]*)","ts_ms":(%d+),(.*)$')
    if id == nil then error(path .. " line " .. (n + 1) .. ": expected {\"txn_id\":...,\"ts_ms\":...,") end
    n = n + 1
    ids[n], times[n], rests[n] = id, tonumber(ts), rest
  end
  if n == 0 then error(path .. " holds no request bodies") end
  total = n
  counter = 0
  headers = {["Content-Type"] = "application/json", ["X-API-Key"] = key}
end

function request()
  -- wrk runs this with one thread per bench_service.py; tid keeps ids unique if run with more
  local i = counter % total + 1
  local cycle = math.floor(counter / total)
  counter = counter + 1
  local body = string.format('{"txn_id":"%s-%d-%d-%s","ts_ms":%d,%s', prefix, tid, cycle, ids[i],
    times[i] + shift + cycle * span, rests[i])
  return wrk.format("POST", "/v1/transactions", headers, body)
end
