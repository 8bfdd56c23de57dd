-- A socket of session `token` attached on `node`: new frames go to that node's
-- inbox from now on, and the frames after `lastSeq` come from the session stream.
-- ARGV: token, node, lastSeq ('' for none), connection id. Returns {last seq, resumed (0/1), frames…}.
local token, node = ARGV[1], ARGV[2]
if redis.call('EXISTS', P .. 's:' .. token) == 0 then return {-1, 0} end
redis.call('HSET', P .. 'sx:' .. token, 'node', node, 'conn', '1', 'cid', ARGV[4])
local last = tonumber(redis.call('GET', P .. 'sq:' .. token) or '0')
if ARGV[3] == '' then return {last, 0} end
local n = tonumber(ARGV[3])
local oldest = last + 1
local first = redis.call('XRANGE', P .. 'ss:' .. token, '-', '+', 'COUNT', 1)[1]
if first then oldest = tonumber(string.match(first[1], '-(%d+)$')) end
if n > last or n + 1 < oldest then return {last, 0} end
local out = {last, 1}
for _, e in ipairs(redis.call('XRANGE', P .. 'ss:' .. token, '(0-' .. n, '+')) do
  out[#out + 1] = e[2][2]
end
return out
