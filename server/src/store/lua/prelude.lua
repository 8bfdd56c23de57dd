-- Shared by every rtcroom script (prepended to each). Keys live under `rtc:`;
-- a room is one JSON document, so each script reads and writes it whole.
local P = 'rtc:'
local function room_key(app, room) return P .. 'room:' .. app .. ':' .. room end
local function load_room(app, room)
  local doc = redis.call('GET', room_key(app, room))
  if not doc then return nil end
  return cjson.decode(doc)
end
local function save_room(app, room, r) redis.call('SET', room_key(app, room), cjson.encode(r)) end
local function ok(v) if v == nil then return {'ok', ''} end return {'ok', cjson.encode(v)} end
local function fail(name, msg) return {name, msg or ''} end
local function beat_member(app, room, user) return cjson.encode({app, room, user}) end
local function idle_member(app, room) return cjson.encode({app, room}) end
local function member_ids(r)
  local ids = {}
  for _, m in ipairs(r.members) do ids[#ids + 1] = m.p.userID end
  return ids
end
-- Takes one room from the server's and the app's budget, or says which is spent.
local function reserve_room(app, max_rooms, max_app)
  local n = tonumber(redis.call('GET', P .. 'n:rooms') or '0')
  if n >= tonumber(max_rooms) then return fail('TooManyRooms') end
  local a = tonumber(redis.call('GET', P .. 'n:app:' .. app) or '0')
  if a >= tonumber(max_app) then
    return fail('AppRoomQuota', 'this app holds ' .. max_app .. ' rooms, its quota')
  end
  redis.call('INCR', P .. 'n:rooms')
  redis.call('INCR', P .. 'n:app:' .. app)
  return nil
end
local function new_room(app, room, kind, requested_by, info, now)
  local order = redis.call('INCR', P .. 'order')
  redis.call('ZADD', P .. 'idle', now, idle_member(app, room))
  return {kind = kind, info = info, req = requested_by, creator = '', mixed = '',
          created = tonumber(now), order = order, members = {}}
end
-- Removes a whole room: its members' index entries, listing, budget.
local function drop_room(app, room, r)
  for _, m in ipairs(r.members) do
    redis.call('SREM', P .. 'ur:' .. app .. ':' .. m.p.userID, room)
    redis.call('ZREM', P .. 'beats', beat_member(app, room, m.p.userID))
  end
  if #r.members > 0 then redis.call('DECRBY', P .. 'n:members', #r.members) end
  redis.call('DEL', room_key(app, room))
  redis.call('ZREM', P .. 'list:' .. app .. ':' .. r.kind, room)
  redis.call('ZREM', P .. 'idle', idle_member(app, room))
  redis.call('DECR', P .. 'n:rooms')
  if redis.call('DECR', P .. 'n:app:' .. app) <= 0 then redis.call('DEL', P .. 'n:app:' .. app) end
end
local function session_of(token)
  local h = redis.call('HMGET', P .. 's:' .. token, 'app', 'user', 'exp')
  if not h[1] then return nil end
  return {token = token, app = h[1], user = h[2], exp = tonumber(h[3])}
end
local function end_session(rec)
  redis.call('DEL', P .. 's:' .. rec.token, P .. 'ss:' .. rec.token, P .. 'sq:' .. rec.token, P .. 'sx:' .. rec.token)
  redis.call('ZREM', P .. 'sexp', rec.token)
  local us = P .. 'us:' .. rec.app .. ':' .. rec.user
  if redis.call('GET', us) == rec.token then redis.call('DEL', us) end
end
