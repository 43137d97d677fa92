-- wrk script of the ingest cells (bench/src/wrk-load.ts): POST /v1/events with what a browser's SDK
-- sends after a first visit: one of DEVICES device ids (header and matching cookie) and `EVENTS`
-- page views per request, each with a fresh event id, so the dedupe window never swallows a request.
-- Settings come from the environment: DL_DEVICES (default 5000), DL_EVENTS (default 1).
local devices = tonumber(os.getenv('DL_DEVICES') or '5000')
local events = tonumber(os.getenv('DL_EVENTS') or '1')
local pages = { '/', '/products', '/products/42', '/cart', '/checkout', '/blog/launch?utm_source=news' }
local ids = {}
local counter = 0
local prefix

function init(args)
  -- One seed per thread: threads must never produce the same event id.
  local seed = tonumber(tostring({}):match('0x(%x+)'), 16) or os.time()
  math.randomseed(os.time() + seed)
  prefix = string.format('%08x', math.random(0, 0x7fffffff))
  -- 32-character device ids, the same for every thread and run (bench/src/wrk-load.ts wrkDeviceIds).
  for i = 1, devices do ids[i] = string.format('dev%029d', i) end
end

local function event_id()
  counter = counter + 1
  -- A version-4-shaped UUID: 8 random hex of the thread, then the thread's counter.
  local c = string.format('%020x', counter)
  return string.format('%s-%s-4%s-8%s-%s', prefix, c:sub(1, 4), c:sub(5, 7), c:sub(8, 10), c:sub(11, 20) .. '00')
end

local headers = {
  ['content-type'] = 'application/json',
  ['user-agent'] = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36',
  ['accept-language'] = 'en-US,en;q=0.9',
}

function request()
  local device = ids[math.random(1, devices)]
  headers['x-device-fingerprint'] = device
  headers['cookie'] = 'device_fp=' .. device
  local parts = {}
  for i = 1, events do
    parts[i] = string.format(
      '{"type":"pageview","url":"https://shop.example%s","referrer":"https://www.google.com/","id":"%s"}',
      pages[(i - 1) % #pages + 1], event_id())
  end
  return wrk.format('POST', '/v1/events', headers, '{"events":[' .. table.concat(parts, ',') .. ']}')
end

-- Status counts go to stdout as one JSON line for the bench to read (wrk reports only non-2xx/3xx).
function done(summary, latency, requests)
  io.write(string.format(
    'DL_RESULT {"requests":%d,"duration_us":%d,"non2xx":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%f}\n',
    summary.requests, summary.duration, summary.errors.status, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean))
end
