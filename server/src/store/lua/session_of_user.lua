-- ARGV: app, user, now
local token = redis.call('GET', P .. 'us:' .. ARGV[1] .. ':' .. ARGV[2])
if not token then return ok() end
local rec = session_of(token)
if not rec or rec.exp < tonumber(ARGV[3]) then return ok() end
return ok(rec)
