-- ARGV: app, room, user, now
local app, room, user, now = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local r = load_room(app, room)
if not r then return fail('RoomNotFound') end
for _, m in ipairs(r.members) do
  if m.p.userID == user then
    if now > m.beat then
      m.beat = now
      save_room(app, room, r)
      redis.call('ZADD', P .. 'beats', now, beat_member(app, room, user))
    end
    return ok()
  end
end
return fail('NotMember')
