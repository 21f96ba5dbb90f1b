-- Admission: the one atomic step that decides whether a buy request becomes an order.
-- All keys share the activity's hash tag, so this stays atomic on Redis Cluster.
-- Names (M_*, T_*, E_*, S_*, ST_*, FLAG_ON, counter_for) come from the header in lib/flash/store/layout.ts.
-- KEYS[1] meta   hash: the activity's rules and counters (M_*)
-- KEYS[2] users  hash: userId -> units admitted
-- KEYS[3] idem   hash: userId:idempotencyKey -> "ticketId|sequence"
-- KEYS[4] stream order requests for the workers (E_*)
-- KEYS[5] ticket hash of the new ticket (T_*)
-- KEYS[6] stats  hash: counters for the dashboard (S_*)
-- ARGV: userId, quantity, idempotencyKey, nowMs, ticketId, epoch (the generation the caller's ticket id carries)
-- Returns {"OK", ticketId, sequence, stockLeft} | {"DUP", ticketId, sequence} | {"NO", code, stockLeft}
local meta, users, idem, stream, ticket, stats = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local user, qty, key, now, ticketId = ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4]), ARGV[5]

local m = redis.call('HMGET', meta, M_STATUS, M_START, M_END, M_STOCK, M_LIMIT, M_MODE, M_QUOTA, M_PAUSED, M_EPOCH)
-- Fencing (docs/durability.md): admit only into a state a rebuild from PostgreSQL has marked ready
-- (M_EPOCH, written last), and only for a ticket id minted for that generation. No meta at all (the
-- caller saw the sale, so Redis lost it), a rebuild half-way, or a stale generation: the buyer
-- retries (503 with Retry-After), never a 404, and nothing is written.
if not m[9] or m[9] ~= ARGV[6] then return {'NO', 'UNAVAILABLE', 0} end
local stock = tonumber(m[4])

local function refuse(code)
  redis.call('HINCRBY', stats, S_REFUSED .. code, 1)
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
if m[8] == FLAG_ON then return refuse('PAUSED') end
if now < tonumber(m[2]) then return refuse('NOT_STARTED') end
if now >= tonumber(m[3]) then return refuse('ENDED') end

local held = tonumber(redis.call('HGET', users, user) or '0')
if held + qty > tonumber(m[5]) then return refuse('LIMIT_REACHED') end

-- PAYMENT mode takes stock at payment, so admission spends an order quota instead.
local counter = counter_for(m[6])
local left = stock
if counter == M_QUOTA then left = tonumber(m[7]) end
if left < qty then
  if left <= 0 then return refuse('SOLD_OUT') end
  return refuse('INSUFFICIENT_STOCK')
end

left = redis.call('HINCRBY', meta, counter, -qty)
if counter == M_STOCK then stock = left end
redis.call('HINCRBY', users, user, qty)
local seq = redis.call('HINCRBY', meta, M_SEQ, 1)
-- The idempotency key travels with the ticket into PostgreSQL (unique per user and sale there).
redis.call('XADD', stream, '*', E_TICKET, ticketId, E_USER, user, E_QTY, qty, E_SEQ, seq, E_IDEM, key)
redis.call('HSET', ticket, T_USER, user, T_SEQ, seq, T_QTY, qty, T_STATE, ST_QUEUED)
redis.call('HSET', idem, idemField, ticketId .. '|' .. seq)
redis.call('HINCRBY', stats, S_ADMITTED, 1)
redis.call('HINCRBY', stats, S_ADMITTED_UNITS, qty)
if left == 0 then redis.call('HSETNX', meta, M_SOLD_OUT_AT, now) end
return {'OK', ticketId, seq, stock}
