-- Records the final state of tickets the workers have written (or refused) in PostgreSQL.
-- Idempotent: a ticket that is already final is left alone, so a replayed batch changes nothing.
-- A refused ticket returns its units to the counter admission spent (counter_for the activity's
-- mode: stock, or the PAYMENT-mode quota) and to the user's allowance.
-- Names (M_*, T_*, S_*, ST_*, counter_for) come from the header in lib/flash/store/layout.ts.
-- KEYS[1] meta, KEYS[2] users, KEYS[3] stats, KEYS[4..] ticket hashes
-- FINAL_DUPLICATE: a retry whose idempotency key already has an order in PostgreSQL (Redis had lost
-- the key): the ticket answers CONFIRMED with that order, and returns its own units like a refusal.
-- ARGV: per ticket 3 values: outcome (ST_CONFIRMED | FINAL_DUPLICATE | ST_REJECTED), detail (orderId or code), payBy ms or ""
-- Returns the number of tickets that changed state.
local meta, users, stats = KEYS[1], KEYS[2], KEYS[3]
local counter = counter_for(redis.call('HGET', meta, M_MODE))
-- Counts summed over the batch and written once at the end (one HINCRBY each, not one per ticket).
local confirmed, confirmedUnits, rejected, rejectedUnits, returned = 0, 0, 0, 0, 0
for i = 4, #KEYS do
  local base = (i - 4) * 3
  local outcome, detail, payBy = ARGV[base + 1], ARGV[base + 2], ARGV[base + 3]
  local t = redis.call('HMGET', KEYS[i], T_STATE, T_USER, T_QTY)
  if t[1] == ST_QUEUED then
    local qty = tonumber(t[3])
    if outcome == ST_CONFIRMED then
      redis.call('HSET', KEYS[i], T_STATE, ST_CONFIRMED, T_ORDER, detail, T_PAY_BY, payBy)
      confirmed = confirmed + 1
      confirmedUnits = confirmedUnits + qty
    else
      if outcome == FINAL_DUPLICATE then
        redis.call('HSET', KEYS[i], T_STATE, ST_CONFIRMED, T_ORDER, detail, T_PAY_BY, payBy)
        confirmed = confirmed + 1
      else
        redis.call('HSET', KEYS[i], T_STATE, ST_REJECTED, T_CODE, detail)
        rejected = rejected + 1
        rejectedUnits = rejectedUnits + qty
      end
      returned = returned + qty
      redis.call('HINCRBY', users, t[2], -qty)
    end
  end
end
if confirmed > 0 then redis.call('HINCRBY', stats, S_CONFIRMED, confirmed) end
if confirmedUnits > 0 then redis.call('HINCRBY', stats, S_CONFIRMED_UNITS, confirmedUnits) end
if rejected > 0 then redis.call('HINCRBY', stats, S_REJECTED, rejected) end
if rejectedUnits > 0 then redis.call('HINCRBY', stats, S_REJECTED_UNITS, rejectedUnits) end
if returned > 0 then
  redis.call('HINCRBY', meta, counter, returned)
  redis.call('HDEL', meta, M_SOLD_OUT_AT)
end
-- Every ticket that changed state was either confirmed or rejected.
local changed = confirmed + rejected
if changed > 0 then redis.call('HINCRBY', meta, M_SERVED, changed) end
return changed
