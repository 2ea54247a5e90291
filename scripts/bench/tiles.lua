-- wrk script for scripts/bench_tiles.sh: cycles through the tile paths in
-- $BENCH_URLS with the bearer token $BENCH_TOKEN and Accept-Encoding $BENCH_ENCODING.
local paths = {}
for line in io.lines(os.getenv("BENCH_URLS")) do
  if line ~= "" then paths[#paths + 1] = line end
end
local token = os.getenv("BENCH_TOKEN") or ""
local enc = os.getenv("BENCH_ENCODING") or ""
local i = 0

function setup(thread)
  thread:set("offset", math.random(#paths))
end

function init(args)
  i = tonumber(offset) or 0
end

function request()
  i = i % #paths + 1
  local h = {}
  if token ~= "" then h["Authorization"] = "Bearer " .. token end
  if enc ~= "" then h["Accept-Encoding"] = enc end
  return wrk.format("GET", paths[i], h)
end

local errors = 0
function response(status, headers, body)
  if status ~= 200 then errors = errors + 1 end
end

function done(summary, latency, requests)
  io.write(string.format("non2xx_or_errors %d\n", summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout))
end
