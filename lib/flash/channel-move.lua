-- An admin's rebalance of a sale split into channels (docs/channels.md): moves units not yet sold
-- from one channel's share to another's, all or nothing. Only shares move: the counter admission
-- spends is untouched, so no unit is made or lost and the sum of the shares stays what it was.
-- KEYS[1] chan hash (C_*). ARGV: from, to, units.
-- Returns {"OK", units left in `from`} | {"NO", units left in `from`} (it has fewer than asked)
--       | {"NONE", 0} (no such channel in this sale)
local chan, from, to, n = KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3])
local c = redis.call('HMGET', chan, C_LEFT .. from, C_LEFT .. to)
if not c[1] or not c[2] then return {'NONE', 0} end
local have = tonumber(c[1])
if have < n then return {'NO', have} end
redis.call('HINCRBY', chan, C_LEFT .. from, -n)
redis.call('HINCRBY', chan, C_SHARE .. from, -n)
redis.call('HINCRBY', chan, C_LEFT .. to, n)
redis.call('HINCRBY', chan, C_SHARE .. to, n)
return {'OK', have - n}
