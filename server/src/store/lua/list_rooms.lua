-- ARGV: app, kind, index, count. The page's room documents and the total.
local list = P .. 'list:' .. ARGV[1] .. ':' .. ARGV[2]
local total = redis.call('ZCARD', list)
local page = {}
local count = tonumber(ARGV[4])
if count > 0 then
  local ids = redis.call('ZRANGE', list, ARGV[3], tonumber(ARGV[3]) + count - 1)
  for _, id in ipairs(ids) do
    local doc = redis.call('GET', room_key(ARGV[1], id))
    if doc then page[#page + 1] = {id, doc} end
  end
end
return {total, page}
