-- One segment of a split stock (docs/architecture.md, "Split stock"): segment K >= 1 under its own
-- hash tag {act:ID:s:K}, so the segments of a sale sit on different Redis Cluster shards. Segment 0
-- is meta's own counter and is spent by admission.lua.
-- Names (G_*) come from the header in lib/flash/store/layout.ts.
-- KEYS[1] the segment hash: G_LEFT units left, G_EPOCH its generation, G_TAKEN..ticketId -> units taken
-- ARGV: op, ticketId, quantity, epoch
--   'take' takes the units for a reserved ticket, once: a second take for the same ticket answers as
--          the first did, so a retried step never takes twice
--   'give' gives back what the ticket took here, once (its commit found the reservation voided, or a
--          sweep voided it); nothing when it took nothing here
-- Returns {"OK", left} | {"EMPTY", left} | {"STALE", 0} (another generation: a rebuild rewrote it)
local seg, op, ticketId, qty = KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3])
local field = G_TAKEN .. ticketId
if op == 'give' then
  local took = tonumber(redis.call('HGET', seg, field) or '0')
  if took > 0 then
    redis.call('HDEL', seg, field)
    return {'OK', redis.call('HINCRBY', seg, G_LEFT, took)}
  end
  return {'OK', tonumber(redis.call('HGET', seg, G_LEFT) or '0')}
end
local g = redis.call('HMGET', seg, G_LEFT, G_EPOCH, field)
if g[2] ~= ARGV[4] then return {'STALE', 0} end
local left = tonumber(g[1])
if g[3] then return {'OK', left} end
if left < qty then return {'EMPTY', left} end
redis.call('HSET', seg, field, qty)
return {'OK', redis.call('HINCRBY', seg, G_LEFT, -qty)}
