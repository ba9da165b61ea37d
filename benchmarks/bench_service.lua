-- wrk script for benchmarks/bench_service.py: POST /v1/transactions, each request with a txn_id
-- unique to this request and run. Two kinds of traffic, chosen by the first argument:
--
-- replay KEY PREFIX SHIFT SPAN PATH
--   realistic traffic: replays simulated transactions from PATH, a JSON-lines file of request bodies
--   in time order, each starting {"txn_id":"...","ts_ms":N, (the order bench_service.py writes). The
--   file is read once at init; requests cycle through it, the first cycle's timestamps moved forward
--   by SHIFT ms and each later cycle's by SPAN ms more, so the service's clock never goes backwards.
--
-- stress KEY PREFIX BASE PASS0 PAYER...
--   synthetic ~all-alert traffic: customer-to-customer transfers (uniform amounts up to 25,000 KES),
--   each payer of the pool sending every few simulated ms from BASE, so velocity features explode and
--   most decisions are review or block (each opening or updating a case).
local threads_started = 0

function setup(thread)
  thread:set("tid", threads_started)
  threads_started = threads_started + 1
end

local function init_replay(args)
  shift, span, path = tonumber(args[4]), tonumber(args[5]), args[6]
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
end

local function init_stress(args)
  base, pass0 = tonumber(args[4]), tonumber(args[5])
  payers = {}
  for i = 6, #args do payers[#payers + 1] = args[i] end
  if #payers == 0 then error("stress traffic needs payer accounts after the first five arguments") end
end

local function replay_body()
  -- wrk runs this with one thread per bench_service.py; tid keeps ids unique if run with more
  local i = counter % total + 1
  local cycle = math.floor(counter / total)
  counter = counter + 1
  return string.format('{"txn_id":"%s-%d-%d-%s","ts_ms":%d,%s', prefix, tid, cycle, ids[i],
    times[i] + shift + cycle * span, rests[i])
end

local function stress_body()
  counter = counter + 1
  local payer = payers[(counter * 7919 + tid) % #payers + 1]
  -- the payee moves on every pass over the pool, so payer-payee pairs do not repeat (familiar pairs
  -- look normal to the model: the alert rate faded from ~70% to <1% after one pass); pass0 lets the
  -- next run continue with new pairs
  local pass = pass0 + math.floor(counter / #payers)
  local payee = payers[(counter * 104729 + 7 * pass + 3 * tid) % #payers + 1]
  return string.format(
    '{"txn_id":"%s-%d-%d","ts_ms":%d,"payer":"%s","payee":"%s","amount_minor":%d,"currency":"KES","type":"%s"}',
    prefix, tid, counter, base + counter * 37 + tid, payer, payee, 1000 + (counter * 7717) % 2500000,
    (counter % 5 == 0) and "cash_out" or "p2p")
end

function init(args)
  local mode = args[1]
  key, prefix = args[2], args[3]
  if mode == "replay" then
    init_replay(args)
    body = replay_body
  elseif mode == "stress" then
    init_stress(args)
    body = stress_body
  else
    error("first argument: replay or stress, not " .. tostring(mode))
  end
  counter = 0
  headers = {["Content-Type"] = "application/json", ["X-API-Key"] = key}
end

function request()
  return wrk.format("POST", "/v1/transactions", headers, body())
end
