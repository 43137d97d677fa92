#!lua flags=allow-oom
-- allow-oom: at maxmemory under noeviction Redis refuses the lease's SET, leases lapse and nothing is
-- read or acknowledged, so the queue that fills Redis never drains. The script writes at most one
-- small key per partition, and holding leases is what lets acknowledgements free memory.
-- Takes, renews or releases the lease of one queue partition. The key holds the holder's name and
-- expires on Redis' clock, so a frozen holder loses it after the lease time whatever its own clock says.
-- KEYS: 1 partition lease.  ARGV: 1 op (acquire | renew | release), 2 member, 3 ttl ms
local holder = redis.call('GET', KEYS[1])
if ARGV[1] == 'acquire' then
  if holder and holder ~= ARGV[2] then return 0 end
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
if holder ~= ARGV[2] then return 0 end
if ARGV[1] == 'renew' then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
else
  redis.call('DEL', KEYS[1])
end
return 1
