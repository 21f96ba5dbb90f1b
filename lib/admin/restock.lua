-- Restock: adds units to a preheated activity's stock, at most once per operation id, so a retry
-- after a lost reply cannot add them twice, and an operation given up ("void") can never land late.
-- Wakes the sold-out flag: soldOutAt goes here, and the caller publishes an event for the processes.
-- Names (M_*, RESTOCK_VOID) come from the header in lib/flash/store/layout.ts.
-- KEYS[1] meta, KEYS[2] restocks hash: opId -> units, or RESTOCK_VOID once the operation was given up
-- ARGV: opId, units, quotaUnits (PAYMENT mode: extra orders admitted for these units, else 0)
-- Returns {"OK", stock} | {"DUP", stock} | {"VOID", 0} | {"NOT_PREHEATED", 0}
local meta, restocks = KEYS[1], KEYS[2]
local op, units, quota = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
if redis.call('HEXISTS', meta, M_STOCK) == 0 then return {'NOT_PREHEATED', 0} end
if redis.call('HSETNX', restocks, op, units) == 0 then
  if redis.call('HGET', restocks, op) == RESTOCK_VOID then return {'VOID', 0} end
  return {'DUP', tonumber(redis.call('HGET', meta, M_STOCK))}
end
local stock = redis.call('HINCRBY', meta, M_STOCK, units)
if quota > 0 then redis.call('HINCRBY', meta, M_QUOTA, quota) end
redis.call('HDEL', meta, M_SOLD_OUT_AT)
return {'OK', stock}
