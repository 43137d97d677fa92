-- Acknowledges and deletes entries in one step (Redis 7.0 has no acknowledged-only trimming); with an
-- owner, only while that owner holds the partition's lease.
-- KEYS: 1 partition stream, 2 partition lease.  ARGV: 1 group, 2 owner ('' for no check), then entry ids
if ARGV[2] ~= '' and redis.call('GET', KEYS[2]) ~= ARGV[2] then
  return redis.error_reply('DL_LEASE_LOST the partition lease is not held by ' .. ARGV[2])
end
local done = 0
local batch = {}
local function flush()
  if #batch == 0 then return end
  redis.call('XACK', KEYS[1], ARGV[1], unpack(batch))
  done = done + redis.call('XDEL', KEYS[1], unpack(batch))
  batch = {}
end
for i = 3, #ARGV do
  batch[#batch + 1] = ARGV[i]
  if #batch == 500 then flush() end
end
flush()
return done
