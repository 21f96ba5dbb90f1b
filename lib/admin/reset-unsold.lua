-- Forgets the preheated state of an activity nobody has been admitted to yet, so that the next
-- preheat copies its edited stock and rules from PostgreSQL (preheat never overwrites stock).
-- Names (M_*) come from the header in lib/flash/store/layout.ts.
-- KEYS[1] meta
-- Returns 1 if forgotten (or never preheated), 0 if someone was admitted: the edit must not apply.
local seq = tonumber(redis.call('HGET', KEYS[1], M_SEQ) or '0')
if seq > 0 then return 0 end
redis.call('DEL', KEYS[1])
return 1
