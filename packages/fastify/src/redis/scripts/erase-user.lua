-- User erasure, the user's part: a 30-day user tombstone and an erase-user record in the user id's
-- partition, behind the user's queued page views.
-- KEYS: 1 user tombstone, 2 partition stream
-- ARGV: 1 tombstone lifetime s, 2 erase-user record JSON
redis.call('SET', KEYS[1], 1, 'EX', ARGV[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('XADD', KEYS[2], '*', 'r', ARGV[2], 't', now)
return 1
