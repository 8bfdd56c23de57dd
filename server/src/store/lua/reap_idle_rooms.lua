-- ARGV: before. Drops rooms created before it that nobody ever entered.
local reaped = {}
for _, key in ipairs(redis.call('ZRANGEBYSCORE', P .. 'idle', '-inf', '(' .. ARGV[1], 'LIMIT', 0, 1000)) do
  local k = cjson.decode(key)
  local r = load_room(k[1], k[2])
  if r and r.creator == '' and #r.members == 0 then
    drop_room(k[1], k[2], r)
    reaped[#reaped + 1] = key
  else
    redis.call('ZREM', P .. 'idle', key)
  end
end
return reaped
