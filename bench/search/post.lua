-- wrk script: POST /api/search with the queries of bench/search/queries.txt in turn.
local queries = {}
for line in io.lines(os.getenv("QUERIES_FILE")) do
  if #line > 0 then table.insert(queries, line) end
end
local index = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local function escape(text)
  return (text:gsub('\\', '\\\\'):gsub('"', '\\"'))
end

request = function()
  index = index % #queries + 1
  local body = '{"query": "' .. escape(queries[index]) .. '", "type": "text", "limit": 100}'
  return wrk.format(nil, "/api/search", nil, body)
end
