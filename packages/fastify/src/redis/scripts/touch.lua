-- Counts page views in a device's live session and queues them, in one step (CONTRACT: Anonymous session).
-- Rate limits counted first (limits.lua is prepended): over one, nothing is counted or queued. The
-- new-id limits count only a device the store does not know (no session, no identity record), before
-- anything is written.
-- KEYS: 1 session hash, 2 tombstone, 3 seen event ids (zset), 4 partition stream, 5 identity record,
--       6, 7 rate-limit counters, 8, 9, 10 new-id counters (unused ones: any key of this slot)
-- ARGV: 1 new session id, 2 idle ms, 3 max age ms, 4 source code, 5 visitor hash ('' = none),
--       6 dedupe window ms, 7 rate-limit window ms, 8, 9 limits of the counters (0: unused),
--       10 new-id window ms, 11, 12, 13 new-id limits (0: unused), 14 new-id mode ('count': count
--       them here; 'ask': a new device answers {'new'} and writes nothing, its counters live in other
--       slots; '': none), then pairs from 15: event id, record JSON (without session id and server time)
-- The device's page-view client counter may be fields of its session hash (limits.lua): the session
-- is the fields 'i', 'o', 'v', 'f', 'l', 'n', and the hash may hold the counter alone.
local limited, lcount, lttl = dl_limits(6, 7, 2)
if limited > 0 then return {'limited', limited, lcount, lttl} end
if redis.call('EXISTS', KEYS[2]) == 1 then return {'erased', lcount, lttl} end
local mode = ARGV[14]
if mode ~= '' and redis.call('HEXISTS', KEYS[1], 'i') == 0 and redis.call('EXISTS', KEYS[5]) == 0 then
  if mode == 'ask' then return {'new', lcount, lttl} end
  local over, ncount, nttl = dl_limits(8, 10, 3)
  if over > 0 then return {'newlimited', over, ncount, nttl, lcount, lttl} end
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local idle = tonumber(ARGV[2])
local maxAge = tonumber(ARGV[3])
local window = tonumber(ARGV[6])

-- Event ids seen in the window: a retried request (or a resent command) counts once.
local fresh = {}
if #ARGV >= 15 then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - window)
  for i = 15, #ARGV, 2 do
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
if (not live) and #fresh == 0 then return {'duplicate', lcount, lttl} end
if not live then
  started = 1
  sid, src, vh, first = ARGV[1], ARGV[4], ARGV[5], now
  redis.call('HDEL', KEYS[1], 'i', 'o', 'v', 'f', 'l', 'n')
  if vh ~= '' then
    redis.call('HSET', KEYS[1], 'i', sid, 'o', src, 'v', vh, 'f', first)
  else
    redis.call('HSET', KEYS[1], 'i', sid, 'o', src, 'f', first)
  end
end
local pages = redis.call('HINCRBY', KEYS[1], 'n', #fresh)
redis.call('HSET', KEYS[1], 'l', now)
-- The hash lives while the session may (idle) and while its rate counter's window lasts.
redis.call('PEXPIRE', KEYS[1], math.max(idle, dl_hash_ttl[KEYS[1]] or 0))

for _, record in ipairs(fresh) do
  redis.call('XADD', KEYS[4], '*', 'r', record, 's', sid, 't', now)
end
-- Fingerprint joins (docs/protocol.md): a device with an identity record was seen on a request of its
-- own. 'j': a join to it stands and must be revoked; 'g': it gave way as a claimant, so a live browser
-- shares the fingerprint and the entry must be marked shared; else, once a day, the entry it points
-- to, whose lifetime the caller extends (redis-identity.ts).
local identity = ''
if redis.call('EXISTS', KEYS[5]) == 1 then
  local r = redis.call('HMGET', KEYS[5], 'x', 'j', 'd', 'e', 'g')
  redis.call('HSET', KEYS[5], 'l', now)
  if r[1] then redis.call('PEXPIRE', KEYS[5], r[1]) end
  local day = tostring(math.floor(now / 86400000))
  if r[2] then
    identity = 'j'
  elseif r[5] then
    identity = 'g'
  elseif r[4] and r[3] ~= day then
    redis.call('HSET', KEYS[5], 'd', day)
    identity = r[4]
  end
end
-- The counters' count and ms left come last (redis-sessions.ts reads them from the end).
return {'ok', sid, src, vh or '', first, now, pages, #fresh, started, identity, lcount, lttl}
