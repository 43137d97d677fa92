-- Reads a partition through the consumer group: entries never delivered (id '>') or the consumer's own
-- pending ones (id '0'); with a guard, only while the consumer holds the partition's lease, so a holder
-- that lost it (frozen past the lease time) cannot take entries away from the new one.
-- KEYS: 1 partition stream, 2 partition lease.  ARGV: 1 group, 2 consumer, 3 count, 4 id, 5 guard (1 or 0)
if ARGV[5] == '1' and redis.call('GET', KEYS[2]) ~= ARGV[2] then
  return redis.error_reply('DL_LEASE_LOST the partition lease is not held by ' .. ARGV[2])
end
return redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', ARGV[3], 'STREAMS', KEYS[1], ARGV[4])
