-- ARGV: app, room, by
local app, room = ARGV[1], ARGV[2]
local r = load_room(app, room)
if not r then return fail('RoomNotFound') end
local owner = r.creator
if owner == '' then owner = r.req end
if owner ~= ARGV[3] then return fail('NotRoomCreator') end
local ids = member_ids(r)
drop_room(app, room, r)
return ok(ids)
