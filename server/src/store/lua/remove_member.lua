-- ARGV: app, room, user, stale_before ('' for none), creator_leave_closes_room ('1'/'0')
local app, room, user = ARGV[1], ARGV[2], ARGV[3]
local r = load_room(app, room)
if not r then return fail('RoomNotFound') end
local pos = nil
for i, m in ipairs(r.members) do
  if m.p.userID == user then pos = i end
end
if not pos then return fail('NotMember') end
if ARGV[4] ~= '' and r.members[pos].beat >= tonumber(ARGV[4]) then
  return fail('NotMember', 'member is alive')
end
local member = table.remove(r.members, pos)
redis.call('DECR', P .. 'n:members')
redis.call('SREM', P .. 'ur:' .. app .. ':' .. user, room)
redis.call('ZREM', P .. 'beats', beat_member(app, room, user))
local out = {p = member.p, remaining = member_ids(r), closed = false}
if #r.members == 0 then
  drop_room(app, room, r)
  out.remaining = {}
elseif r.creator == user and ARGV[5] == '1' then
  out.closed = out.remaining
  out.remaining = {}
  drop_room(app, room, r)
else
  save_room(app, room, r)
end
return ok(out)
