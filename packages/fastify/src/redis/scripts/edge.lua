-- Queues an edge record once per pair, kind and day; repeats (and erased devices) are no-ops. The
-- other id's own tombstone lives in another slot: the caller checks it before (redis-sessions.ts).
-- KEYS: 1 tombstone, 2 edges seen (hash), 3 partition stream
-- ARGV: 1 edge kind and other id (`cookie:<id>`), 2 dedupe lifetime s, 3 edge record JSON
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if redis.call('HSETNX', KEYS[2], ARGV[1], 1) == 0 then return 0 end
-- Expiry set once, at creation: the set cannot outlive a day however often it grows.
if redis.call('TTL', KEYS[2]) < 0 then redis.call('EXPIRE', KEYS[2], ARGV[2]) end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('XADD', KEYS[3], '*', 'r', ARGV[3], 't', now)
return 1
