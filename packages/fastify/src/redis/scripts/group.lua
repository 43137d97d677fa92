#!lua flags=allow-oom
-- allow-oom, as lease.lua: at maxmemory under noeviction XGROUP CREATE is refused, even for a group that
-- exists, and without the group nothing is read or acknowledged, so the full queue would never drain.
-- It writes one small group per partition, once.
-- Creates a partition stream's consumer group (and the stream) from its beginning, unless it exists.
-- A script rather than XGROUP itself: XGROUP's key is its second argument, so ioredis would route an
-- auto-pipelined XGROUP on a Cluster by "CREATE" instead of by the stream.
-- KEYS: 1 partition stream.  ARGV: 1 group
local reply = redis.pcall('XGROUP', 'CREATE', KEYS[1], ARGV[1], '0', 'MKSTREAM')
if type(reply) == 'table' and reply.err then
  if string.sub(reply.err, 1, 9) == 'BUSYGROUP' then return 0 end
  return redis.error_reply(reply.err)
end
return 1
