-- Counts rate limits alone (limits.lua is prepended), for a write that does not count them itself.
-- KEYS: 1, 2 counters (one slot).  ARGV: 1 window ms, 2, 3 their limits (0: slot unused)
-- Returns the refusing counter's position (0: none), then count and ms left of each counter counted.
local position = dl_limits(1, 1, 2)
local out = {position}
for _, v in ipairs(dl_counted) do out[#out + 1] = v end
return out
