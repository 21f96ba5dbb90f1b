-- Admission: the one atomic step that decides whether a buy request becomes an order.
-- All keys share the activity's hash tag, so this stays atomic on Redis Cluster.
-- Names (M_*, T_*, E_*, S_*, ST_*, FLAG_ON, counter_for) come from the header in lib/flash/store/layout.ts.
-- KEYS[1] meta   hash: the activity's rules and counters (M_*)
-- KEYS[2] users  hash: userId -> units admitted
-- KEYS[3] idem   hash: userId:idempotencyKey -> "ticketId|sequence", the first answer ("ticketId|": a reservation)
-- KEYS[4] stream order requests for the workers (E_*)
-- KEYS[5] ticket hash of the new ticket (T_*)
-- KEYS[6] stats  hash: counters for the dashboard (S_*)
-- KEYS[7] mine   hash: userId -> the user's ticket ids (GET /api/activities/{id}/me)
-- KEYS[8] trace  hash: userId -> "atMs|code", the user's first refused attempt (an admitted one is in its ticket)
-- KEYS[9] draw   hash: userId -> "sequence|units", fair entry's drawn sequence numbers and held units
-- KEYS[10] offers hash: userId -> deadline (ms) of a unit offered to them from the waitlist
-- KEYS[11] pending hash: ticketId -> "userId|quantity|atMs|idempotencyKey" (split stock only)
-- KEYS[12] chan    hash: CHANNEL fields (C_*), a sale split into channels only (docs/channels.md)
-- ARGV: userId, quantity, idempotencyKey, nowMs, ticketId, epoch (the generation the caller's ticket id carries),
--       then for a split stock (docs/architecture.md, "Split stock") the step:
--   (none) one segment: the whole admission, spending meta's counter
--   'R0'   reserve, or admit at once from meta's counter (segment 0) when it has the units
--   'R'    reserve only: the limit and the idempotency key are taken, the units come from a segment
--   'C'    commit a reservation; ARGV[8]: the segment that gave the units (0: take them from meta's
--          counter now; -1: none), ARGV[9]: the refusal when none did (SOLD_OUT, INSUFFICIENT_STOCK)
--   ''     (with ARGV[10]) one segment, as none: a sale split into channels, ARGV[10] the request's channel
-- Returns {"OK", ticketId, sequence, stockLeft, counterLeft[, "D" when the sequence is a drawn one]}
--       | {"DUP", ticketId, sequence} | {"NO", code, stockLeft}
--       | {"RES", ticketId} (reserved) | {"WAIT", ticketId} (the key's first request is between its steps)
--       | {"GONE", ticketId} (commit: the reservation was voided, by the sweep or a rebuild)
local meta, users, idem, stream, ticket, stats = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local mine, trace, draw, offers, pending = KEYS[7], KEYS[8], KEYS[9], KEYS[10], KEYS[11]
local user, qty, key, now, ticketId = ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4]), ARGV[5]
local step = ARGV[7]
if step == '' then step = nil end

local m = redis.call('HMGET', meta, M_STATUS, M_START, M_END, M_STOCK, M_LIMIT, M_MODE, M_QUOTA, M_PAUSED, M_EPOCH, M_PREQUEUE, M_DRAW_UNTIL, M_WL_HOLD, M_CHANNELS)
-- Fencing (docs/durability.md): admit only into a state a rebuild from PostgreSQL has marked ready
-- (M_EPOCH, written last), and only for a ticket id minted for that generation. No meta at all (the
-- caller saw the sale, so Redis lost it), a rebuild half-way, or a stale generation: the buyer
-- retries (503 with Retry-After), never a 404, and nothing is written.
if not m[9] or m[9] ~= ARGV[6] then return {'NO', 'UNAVAILABLE', 0} end
local stock = tonumber(m[4])

local function refuse(code)
  redis.call('HINCRBY', stats, S_REFUSED .. code, 1)
  -- "Why didn't I get one?": one field per user, written once, so it stays bounded by the shoppers
  -- who tried. A click before the start decides nothing and is not kept.
  if code ~= 'NOT_STARTED' then redis.call('HSETNX', trace, user, now .. '|' .. code) end
  return {'NO', code, stock}
end

local idemField = user .. ':' .. key
-- PAYMENT mode takes stock at payment, so admission spends an order quota instead.
local counter = counter_for(m[6])
local left = stock
if counter == M_QUOTA then left = tonumber(m[7]) end

-- Fair entry (docs/fair-entry.md) -----------------------------------------------------------------
-- A sale without a pre-queue pays one field comparison here. With one, admission waits for the draw
-- (made at the start), then until M_DRAW_UNTIL holds M_DRAW_HELD units for the drawn shoppers: a
-- drawn shopper's first ticket takes their own reserved units and carries their drawn sequence
-- number; everyone else buys from what is left beyond the held units, first come first served.
-- A pre-queue sale has one segment (the admin form refuses more), so the held units are all in
-- meta's counter; the waitlist's units are too (returned units land in segment 0). So `reserve`
-- and `cap` bound what may be taken from meta's counter, in every step that takes from it.
local drawn, reserve, offered, cap = nil, 0, false, nil
if m[10] == FLAG_ON then
  if not m[11] then return {'NO', 'UNAVAILABLE', stock} end
  if now < tonumber(m[11]) then
    reserve = tonumber(redis.call('HGET', meta, M_DRAW_HELD) or '0')
    local entry = redis.call('HGET', draw, user)
    local bar = entry and string.find(entry, '|', 1, true)
    local units = bar and tonumber(string.sub(entry, bar + 1)) or 0
    if units > 0 then
      drawn = {string.sub(entry, 1, bar - 1), units}
      reserve = reserve - units
    end
  end
end
-- The waitlist (M_WL_HOLD = shoppers waiting + open offers; zero: nothing more is read). Offered
-- units are their shoppers' only; while anyone waits, every other unit is the waitlist's too, so the
-- crowd gets none and an offered shopper exactly their own unit.
local wlHold = tonumber(m[12] or '0')
if wlHold > 0 then
  local open = redis.call('HLEN', offers)
  local deadline = redis.call('HGET', offers, user)
  offered = deadline ~= false and now < tonumber(deadline)
  reserve = reserve + open - (offered and 1 or 0)
  if wlHold > open then cap = offered and 1 or 0 end
end
-- What this shopper may take from meta's counter.
local avail = left - reserve
if cap then avail = math.min(avail, cap) end
-- ------------------------------------------------------------------------------------------------

-- Channels (docs/channels.md) --------------------------------------------------------------------
-- A sale without channels pays one field comparison. With them (one segment, no pre-queue), the
-- request takes its units from its channel's own share, else from the common pool (the counter less
-- every share's units left: returned units, restocks), else, once the sale has run C_AFTER ms, it
-- borrows them from the channel with the most left (its share moves with them). The counter is still
-- spent as for any sale, so the channels can never give more than it holds.
local channel, chan, chanLeft, pool, donor = nil, KEYS[12], 0, 0, nil
if m[13] == FLAG_ON then
  channel = ARGV[10]
  -- The caller's view predates the channels (they are set before a rebuild): it retries afresh.
  if not channel or not chan then return {'NO', 'UNAVAILABLE', stock} end
  local c = redis.call('HMGET', chan, C_LEFT .. channel, C_ALLOC, C_AFTER)
  chanLeft = tonumber(c[1] or '0')
  pool = left - tonumber(c[2] or '0')
  local best = math.max(chanLeft, pool)
  -- A channel with no share in this sale buys nothing here (a partner only within its own).
  if not c[1] then best, c[3] = 0, false end
  if best < qty and c[3] and now >= tonumber(m[2]) + tonumber(c[3]) then
    local all = redis.call('HGETALL', chan)
    for i = 1, #all, 2 do
      local f, n = all[i], tonumber(all[i + 1])
      if string.sub(f, 1, #C_LEFT) == C_LEFT and f ~= C_LEFT .. channel and n > best then
        donor, best = string.sub(f, #C_LEFT + 1), n
      end
    end
  end
  avail = math.min(avail, best)
end
-- ------------------------------------------------------------------------------------------------

-- The admission proper, once the units are taken: a sequence number, the order request, the ticket.
local function admit()
  local seq
  if drawn then
    -- Fair entry: the drawn number, and the shopper's held units leave the reserve (claimed once).
    seq = tonumber(drawn[1])
    redis.call('HSET', draw, user, drawn[1] .. '|0')
    redis.call('HINCRBY', meta, M_DRAW_HELD, -drawn[2])
    redis.call('HINCRBY', meta, M_DRAW_GAP, -1)
  else
    seq = redis.call('HINCRBY', meta, M_SEQ, 1)
  end
  -- The idempotency key travels with the ticket into PostgreSQL (unique per user and sale there).
  if channel then
    redis.call('XADD', stream, '*', E_TICKET, ticketId, E_USER, user, E_QTY, qty, E_SEQ, seq, E_IDEM, key, E_CHANNEL, channel)
  else
    redis.call('XADD', stream, '*', E_TICKET, ticketId, E_USER, user, E_QTY, qty, E_SEQ, seq, E_IDEM, key)
  end
  redis.call('HSET', ticket, T_USER, user, T_SEQ, seq, T_QTY, qty, T_STATE, ST_QUEUED, T_AT, now)
  redis.call('HSET', idem, idemField, ticketId .. '|' .. seq)
  redis.call('HINCRBY', stats, S_ADMITTED, 1)
  redis.call('HINCRBY', stats, S_ADMITTED_UNITS, qty)
  -- The user's tickets for GET …/me (a handful: the limit bounds them); one call for the first.
  if redis.call('HSETNX', mine, user, ticketId) == 0 then
    redis.call('HSET', mine, user, redis.call('HGET', mine, user) .. ' ' .. ticketId)
  end
  -- One segment: its counter at 0 is the sell-out. A split stock's caller knows it only once every
  -- segment is at 0, and records it then (markSoldOut in lib/flash/store).
  if left == 0 and not step then
    redis.call('HSETNX', meta, M_SOLD_OUT_AT, now)
    -- Where the stock ran out, for every trace: the latest sell-out wins (units may come back).
    redis.call('HSET', meta, M_LAST_UNIT, seq .. '|' .. now)
  end
  -- An offered shopper's ticket (whichever segment gave the units) ends their offer.
  if offered then
    redis.call('HDEL', offers, user)
    redis.call('HINCRBY', meta, M_WL_HOLD, -1)
  end
  if drawn then return {'OK', ticketId, seq, stock, left, 'D'} end
  return {'OK', ticketId, seq, stock, left}
end

-- Takes the units from meta's counter (segment 0 of a split stock).
local function take()
  left = redis.call('HINCRBY', meta, counter, -qty)
  if counter == M_STOCK then stock = left end
  if channel then
    -- Channels: from the own share, else the pool (nothing more to move), else the donor's share.
    if chanLeft < qty and pool < qty and donor then
      redis.call('HINCRBY', chan, C_LEFT .. donor, -qty)
      redis.call('HINCRBY', chan, C_SHARE .. donor, -qty)
      redis.call('HINCRBY', chan, C_SHARE .. channel, qty)
      redis.call('HINCRBY', chan, C_ALLOC, -qty)
    elseif chanLeft >= qty then
      redis.call('HINCRBY', chan, C_LEFT .. channel, -qty)
      redis.call('HINCRBY', chan, C_ALLOC, -qty)
    end
    redis.call('HINCRBY', chan, C_ADMITTED .. channel, qty)
  end
end

if step == 'C' then
  -- The reservation is this request's: nothing here checks the rules again (they held when it was
  -- made), except the units fair entry holds in meta's counter. Voided meanwhile (the sweep of
  -- stale reservations, a rebuild): the caller gives back the segment's units it took.
  if redis.call('HDEL', pending, ticketId) == 0 then return {'GONE', ticketId} end
  local from, code = ARGV[8], ARGV[9]
  if from == '0' then
    if avail >= qty then
      take()
      return admit()
    end
    if avail > 0 then code = 'INSUFFICIENT_STOCK' end
  elseif from ~= '-1' then
    return admit()
  end
  -- No segment had the units: the reservation is given back and the request refused.
  redis.call('HINCRBY', users, user, -qty)
  redis.call('HDEL', idem, idemField)
  return refuse(code)
end

-- A retried request gets the first answer, whatever has changed since.
local prior = redis.call('HGET', idem, idemField)
if prior then
  local bar = string.find(prior, '|', 1, true)
  local seq = tonumber(string.sub(prior, bar + 1))
  -- Its first request is between its steps (split stock): the caller asks again shortly.
  if not seq then return {'WAIT', string.sub(prior, 1, bar - 1)} end
  return {'DUP', string.sub(prior, 1, bar - 1), seq}
end

local status = m[1]
if status == 'CANCELLED' or status == 'ENDED' or status == 'DRAFT' then
  return refuse(status == 'DRAFT' and 'NOT_STARTED' or 'ENDED')
end
if m[8] == FLAG_ON then return refuse('PAUSED') end
if now < tonumber(m[2]) then return refuse('NOT_STARTED') end
if now >= tonumber(m[3]) then return refuse('ENDED') end

-- Units held include reservations still between their steps, so the limit stays exact.
local held = tonumber(redis.call('HGET', users, user) or '0')
if held + qty > tonumber(m[5]) then return refuse('LIMIT_REACHED') end

if (not step or step == 'R0') and avail >= qty then
  take()
  redis.call('HINCRBY', users, user, qty)
  return admit()
end
if not step then
  if avail <= 0 then return refuse('SOLD_OUT') end
  return refuse('INSUFFICIENT_STOCK')
end

-- Split stock: reserve the user's units and the key here; the units come from a segment next.
redis.call('HINCRBY', users, user, qty)
redis.call('HSET', idem, idemField, ticketId .. '|')
redis.call('HSET', pending, ticketId, user .. '|' .. qty .. '|' .. now .. '|' .. key)
return {'RES', ticketId}
