-- Voids a split-stock reservation that never reached its commit (docs/architecture.md, "Split
-- stock"): the web process that made it died or stalled between its steps. Gives the user's units
-- back and forgets the idempotency key, unless the commit won the race (then nothing happens). Run
-- BEFORE the segments give back what the ticket took: once voided, its commit can no longer succeed.
-- KEYS[1] users, KEYS[2] idem, KEYS[3] pending; ARGV: ticketId, olderThanMs (the reservation's time at most this)
-- Returns 1 if voided, 0 if no such reservation (committed, refused, or already voided) or a younger one.
local users, idem, pending, ticketId = KEYS[1], KEYS[2], KEYS[3], ARGV[1]
local p = redis.call('HGET', pending, ticketId)
if not p then return 0 end
local user, qty, at, key = string.match(p, '^([^|]*)|(%d+)|(%d+)|(.*)$')
if tonumber(at) > tonumber(ARGV[2]) then return 0 end
redis.call('HDEL', pending, ticketId)
redis.call('HINCRBY', users, user, -tonumber(qty))
if redis.call('HGET', idem, user .. ':' .. key) == ticketId .. '|' then redis.call('HDEL', idem, user .. ':' .. key) end
return 1
