-- The device's side of a fingerprint, read before the index entry decides: erased, the entry it
-- already points to (only a device's first fingerprint counts), when and where it was minted.
-- KEYS: 1 identity record, 2 tombstone
if redis.call('EXISTS', KEYS[2]) == 1 then return {'erased'} end
local r = redis.call('HMGET', KEYS[1], 'e', 'b', 'p')
return {'ok', r[1] or '', r[2] or '', r[3] or ''}
