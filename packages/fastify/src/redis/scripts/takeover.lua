-- The new holder of a partition's lease takes over: every pending entry of the group moves to it at
-- once (min-idle 0: the lease makes the partition exclusively its), then every other consumer name,
-- left holding nothing, is removed (names of dead processes would pile up otherwise).
-- KEYS: 1 partition stream, 2 partition lease.  ARGV: 1 group, 2 consumer
if redis.call('GET', KEYS[2]) ~= ARGV[2] then
  return redis.error_reply('DL_LEASE_LOST the partition lease is not held by ' .. ARGV[2])
end
local claimed = 0
local cursor = '0-0'
repeat
  local reply = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, cursor, 'COUNT', 1000, 'JUSTID')
  cursor = reply[1]
  claimed = claimed + #reply[2]
until cursor == '0-0'
local removed = 0
for _, fields in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local name
  for i = 1, #fields, 2 do
    if fields[i] == 'name' then name = fields[i + 1] end
  end
  if name and name ~= ARGV[2] then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], name)
    removed = removed + 1
  end
end
return { claimed, removed }
