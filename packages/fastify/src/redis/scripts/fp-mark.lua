-- Copies a join onto the joined-to device, so its next request of its own revokes the join, and
-- queues the revocation of the claim that gave way to it, if any. Answers 1 when the device was
-- already seen since the join (a request between the decision and this copy).
-- KEYS: 1 identity record, 2 partition stream.  ARGV: 1 claimant id, 2 join time ms, 3 record
-- lifetime ms, 4 unjoin record JSON of the given-way claim ('' = none)
if ARGV[4] ~= '' then redis.call('XADD', KEYS[2], '*', 'r', ARGV[4]) end
redis.call('HSET', KEYS[1], 'j', ARGV[1], 'ja', ARGV[2])
if redis.call('HEXISTS', KEYS[1], 'x') == 0 then redis.call('HSET', KEYS[1], 'x', ARGV[3]) end
redis.call('PEXPIRE', KEYS[1], redis.call('HGET', KEYS[1], 'x'))
local seen = redis.call('HGET', KEYS[1], 'l')
if seen and tonumber(seen) >= tonumber(ARGV[2]) then return 1 end
return 0
