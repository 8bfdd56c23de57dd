-- ARGV: app, room, kind, entry JSON {p, url, mixed, info}, now,
--       max_rooms, max_rooms_per_app, max_rooms_per_user, capacity
local app, room, kind, now = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[5])
local entry = cjson.decode(ARGV[4])
local user = entry.p.userID
local index = P .. 'ur:' .. app .. ':' .. user
local indexed = redis.call('SISMEMBER', index, room) == 0
if indexed and redis.call('SCARD', index) >= tonumber(ARGV[8]) then
  return fail('TooManyRoomsForUser', 'already a member of ' .. ARGV[8] .. ' rooms, the limit')
end
local r = load_room(app, room)
if not r then
  local spent = reserve_room(app, ARGV[6], ARGV[7])
  if spent then return spent end
  local info = entry.info
  if type(info) ~= 'string' then info = '' end
  r = new_room(app, room, kind, user, info, ARGV[5])
end
local found = nil
for _, m in ipairs(r.members) do
  if m.p.userID == user then found = m end
end
local is_new = found == nil
if found then
  -- A repeated add_pusher keeps the member's place in the join order: the
  -- others hold the one they were told.
  local order = found.p.joinOrder
  found.p = entry.p
  if order ~= nil then found.p.joinOrder = order end
  found.url = entry.url
  found.beat = now
else
  local capacity = tonumber(ARGV[9])
  if r.kind == 'double' then capacity = 2 end
  if #r.members >= capacity then return fail('RoomFull') end
  r.members[#r.members + 1] = {p = entry.p, url = entry.url, beat = now}
  redis.call('INCR', P .. 'n:members')
end
if indexed then redis.call('SADD', index, room) end
if r.creator == '' then
  r.creator = user
  r.mixed = entry.mixed
  redis.call('ZREM', P .. 'idle', idle_member(app, room))
  redis.call('ZADD', P .. 'list:' .. app .. ':' .. r.kind, r.order, room)
end
save_room(app, room, r)
redis.call('ZADD', P .. 'beats', now, beat_member(app, room, user))
return ok({room = r, is_new = is_new})
