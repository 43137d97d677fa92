-- Rate limits (store/rate-limits.ts), prepended to the scripts that count them in the same step as
-- their write. Fixed windows, as @fastify/rate-limit's Redis store: INCR, the window set at the first
-- hit. Counters are checked in order; the first one over its limit refuses, later ones are not counted.
-- dl_limits(k, a, n): counters KEYS[k .. k+n-1], ARGV[a] window ms, ARGV[a+1 .. a+n] their limits
-- (0: slot unused; negative: fields of a session hash, below). Returns the refusing counter's
-- position (0: none refused), its count and ms left,
-- or those of the last counter counted; dl_counted holds count and ms left of each counter counted.
-- A negative limit marks a counter that is fields of a device's session hash (the page-view client
-- counter, store/rate-limits.ts): 'c' the count, 'w' the end of its window (ms); one key less for
-- each new device. dl_hash_ttl[key] is then its ms left, which the hash's lifetime must cover.
local dl_counted = {}
local dl_hash_ttl = {}
local function dl_hash_count(key, window)
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local ends = tonumber(redis.call('HGET', key, 'w'))
  if not ends or ends <= now then
    ends = now + window
    redis.call('HSET', key, 'c', 0, 'w', ends)
  end
  local count = redis.call('HINCRBY', key, 'c', 1)
  local ttl = ends - now
  if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, ttl) end
  dl_hash_ttl[key] = ttl
  return count, ttl
end
local function dl_limits(k, a, n)
  local window = tonumber(ARGV[a])
  local position, count, ttl = 0, 0, 0
  for i = 0, n - 1 do
    local max = tonumber(ARGV[a + 1 + i])
    local inHash = max < 0
    if inHash then max = -max end
    if max > 0 then
      local key = KEYS[k + i]
      if inHash then
        count, ttl = dl_hash_count(key, window)
      else
        count = redis.call('INCR', key)
        ttl = redis.call('PTTL', key)
        -- A first hit, or a counter left without a window (it would never reset).
        if ttl < 0 then
          redis.call('PEXPIRE', key, window)
          ttl = window
        end
      end
      dl_counted[#dl_counted + 1] = count
      dl_counted[#dl_counted + 1] = ttl
      if count > max then return i + 1, count, ttl end
    end
  end
  return position, count, ttl
end
