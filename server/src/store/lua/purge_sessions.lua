-- ARGV: now. Ends sessions that lapsed before it (at most 1000 a call).
local gone = {}
for _, token in ipairs(redis.call('ZRANGEBYSCORE', P .. 'sexp', '-inf', '(' .. ARGV[1], 'LIMIT', 0, 1000)) do
  local rec = session_of(token)
  if rec then
    end_session(rec)
    gone[#gone + 1] = rec
  else
    redis.call('ZREM', P .. 'sexp', token)
  end
end
return ok(gone)
