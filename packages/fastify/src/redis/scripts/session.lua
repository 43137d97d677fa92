-- The live session of a device, or nil when there is none (idle, too old, converted, erased).
-- KEYS: 1 session hash.  ARGV: 1 idle ms, 2 max age ms
local s = redis.call('HMGET', KEYS[1], 'i', 'o', 'v', 'f', 'l', 'n')
if not s[1] then return nil end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if now - tonumber(s[5]) >= tonumber(ARGV[1]) or now - tonumber(s[4]) >= tonumber(ARGV[2]) then return nil end
return {s[1], s[2], s[3] or '', s[4], s[5], s[6] or '0'}
