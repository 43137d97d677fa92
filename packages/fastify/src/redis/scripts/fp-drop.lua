-- Erasure or withdrawn consent: deletes the index entry when the device owns it or is joined
-- through it, and names the other device whose part must be cleared.
-- KEYS: 1 index entry.  ARGV: 1 device id
-- Returns {owner, claimant or ''}, or {} when the entry is not the device's
local e = redis.call('HMGET', KEYS[1], 'o', 'a')
if e[1] ~= ARGV[1] and e[2] ~= ARGV[1] then return {} end
redis.call('DEL', KEYS[1])
return {e[1], e[2] or ''}
