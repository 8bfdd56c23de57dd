-- ARGV: app, room, kind, requested_by, info, now, max_rooms, max_rooms_per_app
local app, room = ARGV[1], ARGV[2]
if redis.call('EXISTS', room_key(app, room)) == 1 then return fail('RoomExists') end
local spent = reserve_room(app, ARGV[7], ARGV[8])
if spent then return spent end
save_room(app, room, new_room(app, room, ARGV[3], ARGV[4], ARGV[5], ARGV[6]))
return ok()
