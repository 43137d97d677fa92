-- Erasure: deletes every key of the device, leaves a tombstone and queues an erase record behind
-- whatever is already queued for it.
-- KEYS: 1 session hash, 2 seen event ids, 3 last linked user, 4 edges seen, 5 tombstone, 6 partition
--       stream, 7 identity record (its index entry is deleted before, by redis-identity.ts)
-- ARGV: 1 tombstone lifetime s, 2 erase record JSON
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[7])
redis.call('SET', KEYS[5], 1, 'EX', ARGV[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('XADD', KEYS[6], '*', 'r', ARGV[2], 't', now)
return 1
