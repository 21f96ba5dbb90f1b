-- The shopper's own state in one sale, in one round trip (GET /api/activities/{id}/me).
-- Read-only. The ticket hashes are found from the ids in `mine`; they share the activity's hash
-- tag, so they sit on the same Redis Cluster slot as the declared keys.
-- KEYS[1] users, KEYS[2] mine, KEYS[3] trace
-- ARGV: userId, ticket key prefix ("{act:ID}:t:"), then the ticket fields to read, in order
-- Returns {unitsHeld, trace or "", then per ticket: ticketId, field values… ("" when missing)}
local user, prefix = ARGV[1], ARGV[2]
local out = {redis.call('HGET', KEYS[1], user) or '0', redis.call('HGET', KEYS[3], user) or ''}
local fields = {}
for i = 3, #ARGV do fields[#fields + 1] = ARGV[i] end
for id in string.gmatch(redis.call('HGET', KEYS[2], user) or '', '%S+') do
  local t = redis.call('HMGET', prefix .. id, unpack(fields))
  out[#out + 1] = id
  for i = 1, #fields do out[#out + 1] = t[i] or '' end
end
return out
