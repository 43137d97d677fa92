-- A minted id answered its first fresh request: its identity record starts the join window and
-- keeps where (the keyed join prefix: evidence from elsewhere changes nothing). The first call wins;
-- an erased device gets nothing.
-- KEYS: 1 identity record, 2 tombstone.  ARGV: 1 record lifetime ms (the join window), 2 place
if redis.call('EXISTS', KEYS[2]) == 1 or redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[1], 'b', now, 'l', now, 'x', ARGV[1], 'p', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
