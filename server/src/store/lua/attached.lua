-- Whether a session has a socket on a live node. ARGV: token ('' = the user's
-- current session), app, user. Returns {connected (0/1), node, token}.
local token = ARGV[1]
if token == '' then token = redis.call('GET', P .. 'us:' .. ARGV[2] .. ':' .. ARGV[3]) end
if not token then return {0, '', ''} end
local h = redis.call('HMGET', P .. 'sx:' .. token, 'node', 'conn')
if not h[1] then return {0, '', token} end
if h[2] == '1' and redis.call('EXISTS', P .. 'node:' .. h[1]) == 1 then return {1, h[1], token} end
return {0, h[1], token}
