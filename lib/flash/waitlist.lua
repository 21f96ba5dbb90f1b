-- The waitlist of a sold-out sale (docs/fair-entry.md). Two operations, each atomic:
--   JOIN  a shopper joins (only while nothing is left for the crowd);
--   OFFER lapses offers past their deadline, then offers every unit not held for anyone to the next
--         shoppers in line, one unit each, with a deadline (the workers run it every second).
-- M_WL_HOLD counts shoppers waiting plus open offers. Joining adds one; an offer moves a shopper from
-- waiting to offered (no change); buying the offered unit (admission.lua) or letting the offer lapse
-- (here) removes one. Offers never exceed the units nobody else holds, admission keeps offered units
-- for their shoppers and, while anyone waits, gives the crowd nothing: so an offer is always backed by
-- a unit nobody else can take, and a unit is offered to one shopper at a time.
-- Names (M_*, counter_for) come from the header in lib/flash/store/layout.ts.
-- KEYS[1] meta, KEYS[2] users, KEYS[3] waitlist zset (userId by join order), KEYS[4] offers hash (userId -> deadline ms)
-- ARGV JOIN:  "JOIN", userId, nowMs   -> {"OK", position} | {"DUP", position} | {"OFFERED", deadline} | {"NO", code}
-- ARGV OFFER: "OFFER", nowMs, windowMs -> {{offered userIds}, {lapsed userIds}}
local meta, users, queue, offers = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local op = ARGV[1]
local m = redis.call('HMGET', meta, M_EPOCH, M_STATUS, M_START, M_END, M_MODE, M_LIMIT, M_DRAW_UNTIL, M_DRAW_HELD, M_WL_HOLD, M_PAUSED)

-- Units the counter has that nobody holds: not a drawn shopper's (during the draw's hold), not offered.
local function unheld(now)
  local left = tonumber(redis.call('HGET', meta, counter_for(m[5])) or '0')
  if m[7] and now < tonumber(m[7]) then left = left - tonumber(m[8] or '0') end
  return left
end

if op == 'JOIN' then
  local user, now = ARGV[2], tonumber(ARGV[3])
  if not m[1] then return {'NO', 'UNAVAILABLE'} end
  if m[2] == 'CANCELLED' or m[2] == 'ENDED' or now >= tonumber(m[4]) then return {'NO', 'ENDED'} end
  if m[2] == 'DRAFT' or now < tonumber(m[3]) then return {'NO', 'NOT_STARTED'} end
  local rank = redis.call('ZRANK', queue, user)
  if rank then return {'DUP', rank + 1} end
  local deadline = redis.call('HGET', offers, user)
  if deadline then return {'OFFERED', tonumber(deadline)} end
  if tonumber(redis.call('HGET', users, user) or '0') + 1 > tonumber(m[6]) then return {'NO', 'LIMIT_REACHED'} end
  -- Only a sold-out sale has a waitlist to join: units the crowd can still buy are bought, not waited for.
  local open = redis.call('HLEN', offers)
  local waiting = tonumber(m[9] or '0') - open
  if waiting <= 0 and unheld(now) - open > 0 then return {'NO', 'NOT_SOLD_OUT'} end
  redis.call('ZADD', queue, redis.call('HINCRBY', meta, M_WL_SEQ, 1), user)
  redis.call('HINCRBY', meta, M_WL_HOLD, 1)
  return {'OK', redis.call('ZRANK', queue, user) + 1}
end

-- OFFER
local now, window = tonumber(ARGV[2]), tonumber(ARGV[3])
local made, lapsed = {}, {}
if not m[1] then return {made, lapsed} end
local all = redis.call('HGETALL', offers)
for i = 1, #all, 2 do
  if tonumber(all[i + 1]) <= now then
    redis.call('HDEL', offers, all[i])
    lapsed[#lapsed + 1] = all[i]
  end
end
if #lapsed > 0 then redis.call('HINCRBY', meta, M_WL_HOLD, -#lapsed) end
-- New offers only while the sale sells (a paused sale keeps its line as it is).
if m[2] ~= 'LIVE' or m[10] == FLAG_ON or now < tonumber(m[3]) or now >= tonumber(m[4]) then return {made, lapsed} end
local free = unheld(now) - redis.call('HLEN', offers)
if free > 0 then
  for _, user in ipairs(redis.call('ZRANGE', queue, 0, free - 1)) do
    redis.call('ZREM', queue, user)
    redis.call('HSET', offers, user, now + window)
    made[#made + 1] = user
  end
end
return {made, lapsed}
