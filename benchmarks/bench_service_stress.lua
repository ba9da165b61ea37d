-- wrk script for benchmarks/bench_service.py, stress row: synthetic ~all-alert traffic. Random
-- customer-to-customer transfers (uniform amounts up to 25,000 KES), each payer of a 1,000-account pool
-- sending every few simulated ms, so velocity features explode and most decisions are review or block
-- (each opening or updating a case). POST /v1/transactions with a unique txn_id per request.
-- args: key, run prefix, base ts_ms, first pass number, then the payer accounts to draw from.
local threads_started = 0

function setup(thread)
  thread:set("tid", threads_started)
  threads_started = threads_started + 1
end

function init(args)
  key, prefix, base, pass0 = args[1], args[2], tonumber(args[3]), tonumber(args[4])
  payers = {}
  for i = 5, #args do payers[#payers + 1] = args[i] end
  counter = 0
  headers = {["Content-Type"] = "application/json", ["X-API-Key"] = key}
end

function request()
  counter = counter + 1
  local payer = payers[(counter * 7919 + tid) % #payers + 1]
  -- the payee moves on every pass over the pool, so payer-payee pairs do not repeat (familiar pairs
  -- look normal to the model: the alert rate faded from ~70% to <1% after one pass); pass0 lets the
  -- next run continue with new pairs
  local pass = pass0 + math.floor(counter / #payers)
  local payee = payers[(counter * 104729 + 7 * pass + 3 * tid) % #payers + 1]
  local body = string.format(
    '{"txn_id":"%s-%d-%d","ts_ms":%d,"payer":"%s","payee":"%s","amount_minor":%d,"currency":"KES","type":"%s"}',
    prefix, tid, counter, base + counter * 37 + tid, payer, payee, 1000 + (counter * 7717) % 2500000,
    (counter % 5 == 0) and "cash_out" or "p2p")
  return wrk.format("POST", "/v1/transactions", headers, body)
end
