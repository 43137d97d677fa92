-- A device seen (at most once a day per device): the entry it owns or is joined through lives on.
-- KEYS: 1 index entry.  ARGV: 1 device id, 2 entry lifetime ms
local e = redis.call('HMGET', KEYS[1], 'o', 'a')
if e[1] ~= ARGV[1] and e[2] ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
