-- Mirrors the order lifecycle's stock moves into a sale's Redis counters (lib/orders/stock-mirror.ts).
-- PostgreSQL has already moved the units in the transaction that won the order's transition; this
-- brings Redis to the same place. Idempotent per order: the lifecycle hash remembers, per order, what
-- has been applied ("stock:quota"), and only the difference to the target is added, so a retry, a
-- duplicate or a sweep racing another sweep never counts a unit twice.
-- KEYS[1] meta hash, KEYS[2] lifecycle hash: orderId -> "stockApplied:quotaApplied"
-- ARGV: per order 3 values: orderId, stockTarget, quotaTarget
-- Returns {orders changed, stock after}, or {-1, 0} when the sale is not preheated (preheat copies
-- PostgreSQL, which already holds the move, and records every order's target as applied).
local meta, applied = KEYS[1], KEYS[2]
if redis.call('HEXISTS', meta, 'stock') == 0 then return {-1, 0} end
local changed, dStock, dQuota = 0, 0, 0
for i = 1, #ARGV, 3 do
  local id, tStock, tQuota = ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])
  local cur = redis.call('HGET', applied, id)
  local cStock, cQuota = 0, 0
  if cur then
    local bar = string.find(cur, ':', 1, true)
    cStock, cQuota = tonumber(string.sub(cur, 1, bar - 1)), tonumber(string.sub(cur, bar + 1))
  end
  if cStock ~= tStock or cQuota ~= tQuota then
    dStock = dStock + (tStock - cStock)
    dQuota = dQuota + (tQuota - cQuota)
    redis.call('HSET', applied, id, tStock .. ':' .. tQuota)
    changed = changed + 1
  end
end
local stock = tonumber(redis.call('HGET', meta, 'stock'))
if dStock ~= 0 then stock = redis.call('HINCRBY', meta, 'stock', dStock) end
if dQuota ~= 0 then redis.call('HINCRBY', meta, 'quota', dQuota) end
-- Units back on offer: the sale is no longer sold out.
if dStock > 0 or dQuota > 0 then redis.call('HDEL', meta, 'soldOutAt') end
return {changed, stock}
