-- Clears a device's part in a join or an entry that ended (revoked, given way, the other device
-- erased or its consent withdrawn) and optionally queues a record in its partition.
-- KEYS: 1 identity record, 2 partition stream
-- ARGV: 1 the other device ('*' = any), 2 entry key to forget ('' = keep), 3 record JSON with its own
--       time ('' = none), 4 the owner whose claim the device gave way ('-' = clear it, '' = keep)
local other = ARGV[1]
local r = redis.call('HMGET', KEYS[1], 'c', 'j', 'e')
if r[1] and (other == '*' or r[1] == other) then redis.call('HDEL', KEYS[1], 'c') end
if r[2] and (other == '*' or r[2] == other) then redis.call('HDEL', KEYS[1], 'j', 'ja') end
if ARGV[2] ~= '' and r[3] == ARGV[2] then redis.call('HDEL', KEYS[1], 'e') end
if ARGV[4] == '-' then
  redis.call('HDEL', KEYS[1], 'g')
elseif ARGV[4] ~= '' and redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'g', ARGV[4])
end
if ARGV[3] ~= '' then redis.call('XADD', KEYS[2], '*', 'r', ARGV[3]) end
return 1
