-- Consent withdrawn: the device's identity record and edge dedupe go, and a forget-edges record is
-- queued so Postgres deletes every edge naming the device.
-- KEYS: 1 identity record, 2 edges seen, 3 partition stream.  ARGV: 1 forget-edges record JSON
-- Returns the time of the record (ms), for the copies queued behind the other device's records
redis.call('DEL', KEYS[1], KEYS[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('XADD', KEYS[3], '*', 'r', ARGV[1], 't', now)
return now
