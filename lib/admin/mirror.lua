-- Mirrors run-control fields (status, paused, start, end) onto a preheated activity's meta hash.
-- Without a stock field the activity is not preheated: writing would leave a half-made state
-- (a status but no stock) that admission cannot read, so nothing is written and the preheat
-- copies the fields from PostgreSQL later.
-- Names (M_*) come from the header in lib/flash/store/layout.ts.
-- KEYS[1] meta; ARGV: field, value, field, value, ...
-- Returns 1 if written, 0 if not preheated.
if redis.call('HEXISTS', KEYS[1], M_STOCK) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
