-- User erasure on a device the user shares with another user: the device forgets the user as its last
-- linked user, and an erase-user record goes into the device's partition behind its queued entries.
-- KEYS: 1 last linked user, 2 partition stream
-- ARGV: 1 user id, 2 erase-user record JSON
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('XADD', KEYS[2], '*', 'r', ARGV[2], 't', now)
return 1
