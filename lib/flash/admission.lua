-- Admission: the one atomic step that decides whether a buy request becomes an order (DESIGN.md step 4).
-- All keys share the activity's hash tag, so this stays atomic on Redis Cluster.
-- KEYS[1] meta   hash: status, start, end, stock, limit, mode, quota, paused, seq, soldOutAt
-- KEYS[2] users  hash: userId -> units admitted
-- KEYS[3] idem   hash: userId:idempotencyKey -> "ticketId|sequence"
-- KEYS[4] stream order requests for the workers
-- KEYS[5] ticket hash of the new ticket
-- KEYS[6] stats  hash: counters for the dashboard
-- ARGV: userId, quantity, idempotencyKey, nowMs, ticketId
-- Returns {"OK", ticketId, sequence, stockLeft} | {"DUP", ticketId, sequence} | {"NO", code, stockLeft}
local meta, users, idem, stream, ticket, stats = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local user, qty, key, now, ticketId = ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4]), ARGV[5]

local m = redis.call('HMGET', meta, 'status', 'start', 'end', 'stock', 'limit', 'mode', 'quota', 'paused')
if not m[1] then return {'NO', 'NOT_FOUND', 0} end
local stock = tonumber(m[4])

local function refuse(code)
  redis.call('HINCRBY', stats, 'refused:' .. code, 1)
  return {'NO', code, stock}
end

-- A retried request gets the first answer, whatever has changed since.
local idemField = user .. ':' .. key
local prior = redis.call('HGET', idem, idemField)
if prior then
  local bar = string.find(prior, '|', 1, true)
  return {'DUP', string.sub(prior, 1, bar - 1), tonumber(string.sub(prior, bar + 1))}
end

local status = m[1]
if status == 'CANCELLED' or status == 'ENDED' or status == 'DRAFT' then
  return refuse(status == 'DRAFT' and 'NOT_STARTED' or 'ENDED')
end
if m[8] == '1' then return refuse('PAUSED') end
if now < tonumber(m[2]) then return refuse('NOT_STARTED') end
if now >= tonumber(m[3]) then return refuse('ENDED') end

local held = tonumber(redis.call('HGET', users, user) or '0')
if held + qty > tonumber(m[5]) then return refuse('LIMIT_REACHED') end

-- PAYMENT mode takes stock at payment, so admission spends an order quota instead.
local counter = 'stock'
local left = stock
if m[6] == 'PAYMENT' then
  counter = 'quota'
  left = tonumber(m[7])
end
if left < qty then
  if left <= 0 then return refuse('SOLD_OUT') end
  return refuse('INSUFFICIENT_STOCK')
end

left = redis.call('HINCRBY', meta, counter, -qty)
if counter == 'stock' then stock = left end
redis.call('HINCRBY', users, user, qty)
local seq = redis.call('HINCRBY', meta, 'seq', 1)
redis.call('XADD', stream, '*', 't', ticketId, 'u', user, 'q', qty, 's', seq)
redis.call('HSET', ticket, 'u', user, 's', seq, 'q', qty, 'st', 'QUEUED')
redis.call('HSET', idem, idemField, ticketId .. '|' .. seq)
redis.call('HINCRBY', stats, 'admitted', 1)
redis.call('HINCRBY', stats, 'admittedUnits', qty)
if left == 0 then redis.call('HSETNX', meta, 'soldOutAt', now) end
return {'OK', ticketId, seq, stock}
