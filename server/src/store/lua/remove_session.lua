-- ARGV: token
local rec = session_of(ARGV[1])
if not rec then return ok() end
end_session(rec)
return ok(rec)
