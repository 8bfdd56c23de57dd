-- ARGV: token, now, ttl
local rec = session_of(ARGV[1])
if not rec then return fail('AuthFailed') end
if rec.exp < tonumber(ARGV[2]) then return fail('TokenExpired') end
rec.exp = tonumber(ARGV[2]) + tonumber(ARGV[3])
local exp = string.format('%d', rec.exp)
redis.call('HSET', P .. 's:' .. ARGV[1], 'exp', exp)
redis.call('ZADD', P .. 'sexp', exp, ARGV[1])
return ok(rec)
