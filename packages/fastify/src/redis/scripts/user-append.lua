-- Queues an authenticated user's page views in the user id's partition, unless the user is erased
-- (tombstone): checked and appended in one step, so nothing lands behind the erase-user record.
-- KEYS: 1 user tombstone, 2 partition stream.  ARGV: record JSONs
if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
for i = 1, #ARGV do redis.call('XADD', KEYS[2], '*', 'r', ARGV[i]) end
return #ARGV
