-- Fences a sale's admission for the drain before a rebuild (lib/flash/preheat.ts, docs/durability.md):
-- drops the ready mark, so admission answers UNAVAILABLE, and records why, so another process that
-- finds the sale fenced drains too rather than rebuilding at once (its queued tickets would then be
-- refused although Redis still had them). Only while the sale is at the generation the caller judged:
-- once a rebuild has written another one, fencing again would stop a sound sale for nothing.
-- Names (M_*) come from the header in lib/flash/store/layout.ts.
-- KEYS[1] meta; ARGV: the generation the caller judged ('' when it found none), the reason
-- Returns 1 when the sale is fenced (by this call or an earlier one), 0 when it was rebuilt meanwhile.
local meta = KEYS[1]
local e = redis.call('HGET', meta, M_EPOCH)
if e and e ~= ARGV[1] then return 0 end
redis.call('HDEL', meta, M_EPOCH)
if not redis.call('HGET', meta, M_FENCE) then redis.call('HSET', meta, M_FENCE, ARGV[2]) end
return 1
