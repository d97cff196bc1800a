-- wrk: POST the request bodies of a file (one per line) in turn, each thread its own share, so each request
-- is a new order (unifiedorder) or a query of a known one (orderquery). A line `AUTH<TAB>BODY` is an API v3
-- request: JSON with that Authorization header.
local requests = {}
local threads = {}
local next_index = 0
local step = 1

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local file = assert(io.open(args[1], "r"))
  for line in file:lines() do
    local auth, body = line:match("^([^\t]*)\t(.*)$")
    if auth then
      requests[#requests + 1] = wrk.format("POST", nil,
        { ["Content-Type"] = "application/json", ["Accept"] = "application/json", ["Authorization"] = auth }, body)
    else
      requests[#requests + 1] = wrk.format("POST", nil, { ["Content-Type"] = "text/xml" }, line)
    end
  end
  file:close()
  next_index = id or 0
  step = tonumber(args[2]) or 1
end

function request()
  local made = requests[(next_index % #requests) + 1]
  next_index = next_index + step
  return made
end
