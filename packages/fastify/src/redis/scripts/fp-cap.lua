-- Counts one new fingerprint entry against a daily cap; 0 when the cap is reached.
-- KEYS: 1 counter.  ARGV: 1 cap, 2 counter lifetime s
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
if n > tonumber(ARGV[1]) then return 0 end
return 1
