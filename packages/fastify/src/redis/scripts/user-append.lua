-- Queues an authenticated user's page views in the user id's partition, unless the user is erased
-- (tombstone): checked and appended in one step, so nothing lands behind the erase-user record.
-- Rate limits counted first (limits.lua is prepended): over one, nothing is queued.
-- KEYS: 1 user tombstone, 2 partition stream, 3, 4 rate-limit counters
-- ARGV: 1 window ms, 2, 3 limits of the counters (0: unused), then record JSONs
local limited, count, ttl = dl_limits(3, 1, 2)
if limited > 0 then return {'limited', limited, count, ttl} end
if redis.call('EXISTS', KEYS[1]) == 1 then return {'erased', 0, count, ttl} end
for i = 4, #ARGV do redis.call('XADD', KEYS[2], '*', 'r', ARGV[i]) end
return {'ok', #ARGV - 3, count, ttl}
