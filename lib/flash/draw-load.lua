-- Fair entry (docs/fair-entry.md): writes a sale's draw into Redis, once. PostgreSQL has recorded the
-- drawn positions, the sequence numbers and the units reserved for each entry (lib/flash/fair-entry.ts);
-- this makes admission honour them, atomically with the counters it checks against.
-- Names (M_*, counter_for) come from the header in lib/flash/store/layout.ts.
-- KEYS[1] meta, KEYS[2] draw hash: userId -> "sequence|units"
-- ARGV: holdUntilMs, baseSeq (the last sequence number before the draw), then per reserved entry
--       3 values: userId, sequence, units
-- Returns {"OK", gap} | {"DONE", 0} (already loaded) | {"NOT_READY", 0} (no generation mark: preheat first)
-- | {"STALE", seq} (tickets were admitted since baseSeq was read, or the counter holds fewer units than
-- are reserved: draw again from a fresh read)
local meta, draw = KEYS[1], KEYS[2]
if redis.call('HEXISTS', meta, M_DRAW_UNTIL) == 1 then return {'DONE', 0} end
local m = redis.call('HMGET', meta, M_EPOCH, M_SEQ, M_MODE)
if not m[1] then return {'NOT_READY', 0} end
local seq, base = tonumber(m[2] or '0'), tonumber(ARGV[2])
local left = tonumber(redis.call('HGET', meta, counter_for(m[3])) or '0')
local held, gap, last = 0, 0, base
for i = 3, #ARGV, 3 do
  held = held + tonumber(ARGV[i + 2])
  gap = gap + 1
  last = math.max(last, tonumber(ARGV[i + 1]))
end
if seq ~= base or left < held then return {'STALE', seq} end
redis.call('DEL', draw)
for i = 3, #ARGV, 3 do redis.call('HSET', draw, ARGV[i], ARGV[i + 1] .. '|' .. ARGV[i + 2]) end
redis.call('HSET', meta, M_SEQ, last, M_DRAW_HELD, held, M_DRAW_GAP, gap, M_DRAW_UNTIL, ARGV[1])
return {'OK', gap}
