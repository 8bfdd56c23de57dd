-- ARGV: token, app, user, expires_at. Returns the user's previous session, now ended.
local token, app, user = ARGV[1], ARGV[2], ARGV[3]
local us = P .. 'us:' .. app .. ':' .. user
local old_token = redis.call('GET', us)
local old = nil
if old_token and old_token ~= token then
  old = session_of(old_token)
  if old then end_session(old) end
end
redis.call('SET', us, token)
redis.call('HSET', P .. 's:' .. token, 'app', app, 'user', user, 'exp', ARGV[4])
redis.call('ZADD', P .. 'sexp', ARGV[4], token)
return ok(old)
