-- Connection `cid` of session `token` closed at `now`, unless another
-- connection (on any node) attached since. ARGV: token, cid, now
local sx = P .. 'sx:' .. ARGV[1]
if redis.call('HGET', sx, 'cid') == ARGV[2] then
  redis.call('HSET', sx, 'conn', '0', 'since', ARGV[3])
  return 1
end
return 0
