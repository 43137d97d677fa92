-- Acknowledges and deletes entries in one step (Redis 7.0 has no acknowledged-only trimming).
-- KEYS: 1 partition stream.  ARGV: 1 group, then entry ids
local done = 0
local batch = {}
local function flush()
  if #batch == 0 then return end
  redis.call('XACK', KEYS[1], ARGV[1], unpack(batch))
  done = done + redis.call('XDEL', KEYS[1], unpack(batch))
  batch = {}
end
for i = 2, #ARGV do
  batch[#batch + 1] = ARGV[i]
  if #batch == 500 then flush() end
end
flush()
return done
