-- Records the final state of tickets the workers have written (or refused) in PostgreSQL.
-- Idempotent: a ticket that is already final is left alone, so a replayed batch changes nothing.
-- A refused ticket returns its units to the stock (or quota) and to the user's allowance.
-- KEYS[1] meta, KEYS[2] users, KEYS[3] stats, KEYS[4..] ticket hashes
-- ARGV: per ticket 4 values: outcome ("CONFIRMED"|"REJECTED"), detail (orderId or code), payBy ms or "", counter ("stock"|"quota")
-- Returns the number of tickets that changed state.
local meta, users, stats = KEYS[1], KEYS[2], KEYS[3]
local changed = 0
for i = 4, #KEYS do
  local base = (i - 4) * 4
  local outcome, detail, payBy, counter = ARGV[base + 1], ARGV[base + 2], ARGV[base + 3], ARGV[base + 4]
  local t = redis.call('HMGET', KEYS[i], 'st', 'u', 'q')
  if t[1] == 'QUEUED' then
    changed = changed + 1
    if outcome == 'CONFIRMED' then
      redis.call('HSET', KEYS[i], 'st', 'CONFIRMED', 'o', detail, 'pb', payBy)
      redis.call('HINCRBY', stats, 'confirmed', 1)
      redis.call('HINCRBY', stats, 'confirmedUnits', tonumber(t[3]))
    else
      redis.call('HSET', KEYS[i], 'st', 'REJECTED', 'c', detail)
      redis.call('HINCRBY', stats, 'rejected', 1)
      redis.call('HINCRBY', stats, 'rejectedUnits', tonumber(t[3]))
      redis.call('HINCRBY', meta, counter, tonumber(t[3]))
      redis.call('HINCRBY', users, t[2], -tonumber(t[3]))
      redis.call('HDEL', meta, 'soldOutAt')
    end
  end
end
if changed > 0 then redis.call('HINCRBY', meta, 'served', changed) end
return changed
