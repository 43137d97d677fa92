-- Counts page views in a device's live session and queues them, in one step (CONTRACT: Anonymous session).
-- KEYS: 1 session hash, 2 tombstone, 3 seen event ids (zset), 4 partition stream, 5 identity record
-- ARGV: 1 new session id, 2 idle ms, 3 max age ms, 4 source code, 5 visitor hash ('' = none),
--       6 dedupe window ms, then pairs: event id, record JSON (without session id and server time)
if redis.call('EXISTS', KEYS[2]) == 1 then return {'erased'} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local idle = tonumber(ARGV[2])
local maxAge = tonumber(ARGV[3])
local window = tonumber(ARGV[6])

-- Event ids seen in the window: a retried request (or a resent command) counts once.
local fresh = {}
if #ARGV >= 7 then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - window)
  for i = 7, #ARGV, 2 do
    if redis.call('ZADD', KEYS[3], 'NX', now, ARGV[i]) == 1 then fresh[#fresh + 1] = ARGV[i + 1] end
  end
  redis.call('PEXPIRE', KEYS[3], window)
end

local s = redis.call('HMGET', KEYS[1], 'i', 'o', 'v', 'f', 'l')
local sid, src, vh, first = s[1], s[2], s[3], tonumber(s[4])
local started = 0
local live = sid and now - tonumber(s[5]) < idle and now - first < maxAge
-- Only duplicates (a retry after the session ended, e.g. at conversion): nothing to count, so no
-- session is started for it; a 0-page session would swallow the next real visit's start time.
if (not live) and #fresh == 0 then return {'duplicate'} end
if not live then
  started = 1
  sid, src, vh, first = ARGV[1], ARGV[4], ARGV[5], now
  redis.call('DEL', KEYS[1])
  if vh ~= '' then
    redis.call('HSET', KEYS[1], 'i', sid, 'o', src, 'v', vh, 'f', first)
  else
    redis.call('HSET', KEYS[1], 'i', sid, 'o', src, 'f', first)
  end
end
local pages = redis.call('HINCRBY', KEYS[1], 'n', #fresh)
redis.call('HSET', KEYS[1], 'l', now)
redis.call('PEXPIRE', KEYS[1], idle)

for _, record in ipairs(fresh) do
  redis.call('XADD', KEYS[4], '*', 'r', record, 's', sid, 't', now)
end
-- Fingerprint joins (docs/protocol.md): a device with an identity record was seen on a request of its
-- own. 'j': a join to it stands and must be revoked; else, once a day, the entry it points to, whose
-- lifetime the caller extends (redis-identity.ts).
local identity = ''
if redis.call('EXISTS', KEYS[5]) == 1 then
  local r = redis.call('HMGET', KEYS[5], 'x', 'j', 'd', 'e')
  redis.call('HSET', KEYS[5], 'l', now)
  if r[1] then redis.call('PEXPIRE', KEYS[5], r[1]) end
  local day = tostring(math.floor(now / 86400000))
  if r[2] then
    identity = 'j'
  elseif r[4] and r[3] ~= day then
    redis.call('HSET', KEYS[5], 'd', day)
    identity = r[4]
  end
end
return {'ok', sid, src, vh or '', first, now, pages, #fresh, started, identity}
