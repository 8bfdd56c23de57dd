-- ARGV: from, before. The sessions whose expiry is in [from, before), left in
-- place (at most 1000 a call): the idle-session reaper's candidates.
local found = {}
for _, token in ipairs(redis.call('ZRANGEBYSCORE', P .. 'sexp', ARGV[1], '(' .. ARGV[2], 'LIMIT', 0, 1000)) do
  local rec = session_of(token)
  if rec then found[#found + 1] = rec end
end
return ok(found)
