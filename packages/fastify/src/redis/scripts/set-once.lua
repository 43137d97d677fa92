-- Sets a value unless one exists and returns the stored one: the daily salt, the partition count.
-- KEYS: 1 key.  ARGV: 1 candidate value, 2 lifetime s (0 = none)
if tonumber(ARGV[2]) > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[1], 'NX')
end
return redis.call('GET', KEYS[1])
