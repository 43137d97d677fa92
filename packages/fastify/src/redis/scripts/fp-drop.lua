-- Erasure or withdrawn consent: when the device owns the index entry or is joined through it, the
-- entry becomes a tombstone (no registration or join on it for RECOVERY_DAYS: nobody can delete an
-- entry and own it), and the other device whose part must be cleared is named.
-- KEYS: 1 index entry.  ARGV: 1 device id, 2 tombstone lifetime ms
-- Returns {owner, claimant or ''}, or {} when the entry is not the device's
local e = redis.call('HMGET', KEYS[1], 'o', 'a')
if e[1] ~= ARGV[1] and e[2] ~= ARGV[1] then return {} end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 't', '1')
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {e[1], e[2] or ''}
