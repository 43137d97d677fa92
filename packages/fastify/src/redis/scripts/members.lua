#!lua flags=allow-oom
-- allow-oom, as lease.lua: one entry per live persister, its info capped at 1 KB below, and without a
-- heartbeat the persisters split nothing and the queue never drains.
-- Membership of the persisters: a heartbeat (beat), a clean leave (leave) or a listing (list).
-- Expiry is judged on Redis' clock (TIME), the same for every member whatever its own clock says.
-- KEYS: 1 members zset (score = expiry ms), 2 info hash.  ARGV: 1 op, 2 member, 3 ttl ms, 4 info
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
if #expired > 0 then
  redis.call('ZREM', KEYS[1], unpack(expired))
  redis.call('HDEL', KEYS[2], unpack(expired))
end
if ARGV[1] == 'beat' then
  if #ARGV[4] > 1024 then return redis.error_reply('DL_INFO_TOO_LONG a heartbeat info is at most 1024 bytes') end
  local ttl = tonumber(ARGV[3])
  redis.call('ZADD', KEYS[1], now + ttl, ARGV[2])
  redis.call('HSET', KEYS[2], ARGV[2], ARGV[4])
  -- With no member left the keys go too.
  redis.call('PEXPIRE', KEYS[1], 3 * ttl)
  redis.call('PEXPIRE', KEYS[2], 3 * ttl)
elseif ARGV[1] == 'leave' then
  redis.call('ZREM', KEYS[1], ARGV[2])
  redis.call('HDEL', KEYS[2], ARGV[2])
end
return redis.call('HGETALL', KEYS[2])
