-- The index entry of a fingerprint (keyed hash of visitorId, network prefix and browser family)
-- decides, in its own slot and atomically, whether a device registers, joins the entry's owner, or
-- finds the fingerprint shared (docs/protocol.md, Fingerprint joins). The devices' records are
-- updated afterwards, idempotently (redis-identity.ts).
-- KEYS: 1 index entry (hash: o owner, s shared, a claimant, at join time; t: a tombstone)
-- ARGV: 1 device id, 2 minted at ms ('' = never seen fresh), 3 join window ms, 4 entry lifetime ms,
--       5 create allowed ('1' once the caps were counted), 6 the standing claimant's last sighting
--       ms ('' = not read yet)
-- Returns {'vacant'} | {'closed'} | {'registered'} |
--         {'joined', owner, at, given way claimant or '', its join time or ''} |
--         {'contested', claimant} | {'shared', owner or '', revoked claimant or '', at}
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local me = ARGV[1]
local e = redis.call('HMGET', KEYS[1], 'o', 's', 'a', 'at', 't')
local owner, shared, claimant = e[1], e[2], e[3]
-- A tombstone (a device of the entry was erased or withdrew): nothing registers or joins on it.
if e[5] then return {'closed'} end
if not owner then
  if ARGV[5] ~= '1' then return {'vacant'} end
  redis.call('HSET', KEYS[1], 'o', me)
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  return {'registered'}
end
if owner == me then return {'registered'} end
if claimant == me then return {'joined', owner, e[4], '', ''} end
if shared then return {'shared', '', '', now} end

-- Marks the entry shared and revokes its standing join, if any.
local function share()
  redis.call('HSET', KEYS[1], 's', '1')
  if claimant then redis.call('HDEL', KEYS[1], 'a', 'at') end
  return {'shared', owner, claimant or '', now}
end
local born = tonumber(ARGV[2])
-- Another device with this fingerprint on this network that was not just minted: twins.
if not born or now - born > tonumber(ARGV[3]) then return share() end
if claimant then
  if ARGV[6] == '' then return {'contested', claimant} end
  -- Both claimants seen after the second's first request: one is a twin and nothing tells which.
  if tonumber(ARGV[6]) > born then return share() end
end
-- No claimant, or one not seen since: the same browser cleared its storage again; it gives way at
-- once (its join is revoked at its own time), and this join is strictly later, so it stands.
local at = now
if claimant and tonumber(e[4]) >= now then at = tonumber(e[4]) + 1 end
redis.call('HSET', KEYS[1], 'a', me, 'at', at)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {'joined', owner, at, claimant or '', claimant and e[4] or ''}
