-- A replacement marker (docs/protocol.md, Replacement marker): queues a boundary record when the new
-- id is unknown to the store, once per pair. The replaced id lives in another slot and is not read
-- here: an erased one is dropped by the persister.
-- KEYS: 1 edges seen (hash), 2 session, 3 identity, 4 tombstone, 5 last link, 6 events seen,
--       7 partition stream
-- ARGV: 1 `replace:<old id>`, 2 dedupe lifetime s, 3 boundary record JSON
-- The same replacement again (a parallel request of the same browser): the cookie may move again.
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 1 end
-- The session hash may hold the device's rate counter alone (limits.lua): known only with a session.
if redis.call('HEXISTS', KEYS[2], 'i') == 1 then return 0 end
for i = 1, 6 do
  if i ~= 2 and redis.call('EXISTS', KEYS[i]) == 1 then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], 1)
redis.call('EXPIRE', KEYS[1], ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('XADD', KEYS[7], '*', 'r', ARGV[3], 't', now)
return 1
