-- The joined-to device, or a claimant that gave way, was seen on a request of its own: the other
-- browser still exists (twins). The entry (still owned by that owner) is marked shared and its
-- standing join revoked, in the entry's slot.
-- KEYS: 1 index entry.  ARGV: 1 the entry's owner
-- Returns {revoked claimant or '', time ms}
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local e = redis.call('HMGET', KEYS[1], 'o', 'a')
if e[1] ~= ARGV[1] then return {'', now} end
redis.call('HSET', KEYS[1], 's', '1')
if not e[2] then return {'', now} end
redis.call('HDEL', KEYS[1], 'a', 'at')
return {e[2], now}
