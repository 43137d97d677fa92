-- Sets a value unless one exists and returns the stored one: the daily salt, the partition count.
-- KEYS: 1 key.  ARGV: 1 candidate value, 2 lifetime s (0 = none)
-- Reads first: a value already there is answered without a write, so a start-up against a Redis at
-- maxmemory under noeviction (which refuses every SET, even one that would do nothing) goes through.
local stored = redis.call('GET', KEYS[1])
if stored then return stored end
if tonumber(ARGV[2]) > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[1], 'NX')
end
return redis.call('GET', KEYS[1])
