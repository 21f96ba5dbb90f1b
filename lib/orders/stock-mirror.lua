-- Mirrors the order lifecycle's stock moves into a sale's Redis counters (lib/orders/stock-mirror.ts).
-- PostgreSQL has already moved the units in the transaction that won the order's transition; this
-- brings Redis to the same place. Idempotent per order: the lifecycle hash remembers, per order, what
-- has been applied, and only the difference to the target is added, so a retry, a
-- duplicate or a sweep racing another sweep never counts a unit twice.
-- A target carries the version of the order row it was read from (its updated_at), so a mirror
-- that read an older state and runs late cannot undo a newer one.
-- KEYS[1] meta hash, KEYS[2] lifecycle hash: orderId -> "stockApplied:quotaApplied:version"
-- ARGV: per order 4 values: orderId, version, stockTarget, quotaTarget
-- Returns {orders changed, stock after}, or {-1, 0} when the sale is not preheated (preheat copies
-- PostgreSQL, which already holds the move, and records every order's target as applied).
local meta, applied = KEYS[1], KEYS[2]
if redis.call('HEXISTS', meta, M_STOCK) == 0 then return {-1, 0} end
local changed, dStock, dQuota = 0, 0, 0
for i = 1, #ARGV, 4 do
  local id, version, tStock, tQuota = ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3])
  local cur = redis.call('HGET', applied, id)
  local cStock, cQuota, cVersion = 0, 0, -1
  if cur then
    local a, b, c = string.match(cur, '^(-?%d+):(-?%d+):(%d+)$')
    cStock, cQuota, cVersion = tonumber(a), tonumber(b), tonumber(c)
  end
  if version >= cVersion and (cStock ~= tStock or cQuota ~= tQuota) then
    dStock = dStock + (tStock - cStock)
    dQuota = dQuota + (tQuota - cQuota)
    redis.call('HSET', applied, id, tStock .. ':' .. tQuota .. ':' .. version)
    changed = changed + 1
  end
end
local stock = tonumber(redis.call('HGET', meta, M_STOCK))
if dStock ~= 0 then stock = redis.call('HINCRBY', meta, M_STOCK, dStock) end
if dQuota ~= 0 then redis.call('HINCRBY', meta, M_QUOTA, dQuota) end
-- Units back on offer: the sale is no longer sold out.
if dStock > 0 or dQuota > 0 then redis.call('HDEL', meta, M_SOLD_OUT_AT) end
-- A retired sale's keys expire (housekeeping, lib/flash/scheduler.ts): a lifecycle hash made later expires with them.
local ttl = redis.call('PTTL', meta)
if ttl > 0 and changed > 0 then redis.call('PEXPIRE', applied, ttl) end
return {changed, stock}
