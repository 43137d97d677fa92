-- Appends records to one partition stream, all or none. Never trims: entries leave only at ack.
-- KEYS: 1 partition stream.  ARGV: record JSONs
for i = 1, #ARGV do redis.call('XADD', KEYS[1], '*', 'r', ARGV[i]) end
return #ARGV
