-- Conversion: ends the live session and queues an identity link, unless the same user was linked
-- last and no session has started since (idempotent), or the device is erased.
-- KEYS: 1 session hash, 2 tombstone, 3 last linked user, 4 partition stream
-- ARGV: 1 user id, 2 idle ms, 3 max age ms, 4 last-linked lifetime s, 5 link record JSON
if redis.call('EXISTS', KEYS[2]) == 1 then return {'erased'} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local s = redis.call('HMGET', KEYS[1], 'i', 'f', 'l')
local sid = s[1]
if sid and (now - tonumber(s[3]) >= tonumber(ARGV[2]) or now - tonumber(s[2]) >= tonumber(ARGV[3])) then
  sid = false
end
if (not sid) and redis.call('GET', KEYS[3]) == ARGV[1] then return {'unchanged'} end
-- The session's fields only: the device's rate counter (fields 'c', 'w') keeps counting.
redis.call('HDEL', KEYS[1], 'i', 'o', 'v', 'f', 'l', 'n')
redis.call('SET', KEYS[3], ARGV[1], 'EX', ARGV[4])
if sid then
  redis.call('XADD', KEYS[4], '*', 'r', ARGV[5], 's', sid, 't', now)
  return {'linked', sid}
end
redis.call('XADD', KEYS[4], '*', 'r', ARGV[5], 't', now)
return {'linked'}
