-- wrk script for benchmarks/bench_service.py: POST /v1/transactions with a unique txn_id per request.
-- args: key, run prefix, base ts_ms, then the payer accounts to draw from.
local threads_started = 0

function setup(thread)
  thread:set("tid", threads_started)
  threads_started = threads_started + 1
end

function init(args)
  key, prefix, base = args[1], args[2], tonumber(args[3])
  payers = {}
  for i = 4, #args do payers[#payers + 1] = args[i] end
  counter = 0
  headers = {["Content-Type"] = "application/json", ["X-API-Key"] = key}
end

function request()
  counter = counter + 1
  local payer = payers[(counter * 7919 + tid) % #payers + 1]
  local payee = payers[(counter * 104729 + 3 * tid) % #payers + 1]
  local body = string.format(
    '{"txn_id":"%s-%d-%d","ts_ms":%d,"payer":"%s","payee":"%s","amount_minor":%d,"currency":"KES","type":"%s"}',
    prefix, tid, counter, base + counter * 37 + tid, payer, payee, 1000 + (counter * 7717) % 2500000,
    (counter % 5 == 0) and "cash_out" or "p2p")
  return wrk.format("POST", "/v1/transactions", headers, body)
end
