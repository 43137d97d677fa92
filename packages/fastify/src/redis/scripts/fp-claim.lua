-- Copies a decision of the index entry onto the device: its pointer to the entry (for erasure), its
-- record's lifetime, and for a join the claim and the join edge, queued once.
-- KEYS: 1 identity record, 2 tombstone, 3 partition stream
-- ARGV: 1 entry key, 2 record lifetime ms, 3 joined-to id ('' = registered), 4 join edge record JSON
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('HEXISTS', KEYS[1], 'l') == 0 then redis.call('HSET', KEYS[1], 'l', now) end
redis.call('HSET', KEYS[1], 'e', ARGV[1], 'x', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if ARGV[3] == '' or redis.call('HGET', KEYS[1], 'c') == ARGV[3] then return 0 end
redis.call('HSET', KEYS[1], 'c', ARGV[3])
-- No 't' field: the edge keeps the entry's time of the join, which its revocation is compared with.
redis.call('XADD', KEYS[3], '*', 'r', ARGV[4])
return 1
