-- Rate limits (store/rate-limits.ts), prepended to the scripts that count them in the same step as
-- their write. Fixed windows, as @fastify/rate-limit's Redis store: INCR, the window set at the first
-- hit. Counters are checked in order; the first one over its limit refuses, later ones are not counted.
-- dl_limits(k, a, n): counters KEYS[k .. k+n-1], ARGV[a] window ms, ARGV[a+1 .. a+n] their limits
-- (0: slot unused). Returns the refusing counter's position (0: none refused), its count and ms left,
-- or those of the last counter counted; dl_counted holds count and ms left of each counter counted.
local dl_counted = {}
local function dl_limits(k, a, n)
  local window = tonumber(ARGV[a])
  local position, count, ttl = 0, 0, 0
  for i = 0, n - 1 do
    local max = tonumber(ARGV[a + 1 + i])
    if max > 0 then
      local key = KEYS[k + i]
      count = redis.call('INCR', key)
      ttl = redis.call('PTTL', key)
      -- A first hit, or a counter left without a window (it would never reset).
      if ttl < 0 then
        redis.call('PEXPIRE', key, window)
        ttl = window
      end
      dl_counted[#dl_counted + 1] = count
      dl_counted[#dl_counted + 1] = ttl
      if count > max then return i + 1, count, ttl end
    end
  end
  return position, count, ttl
end
