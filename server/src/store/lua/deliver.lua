-- Numbers one event for each recipient's session stream (entry ID 0-seq, so
-- the ID is the session's seq) and appends it, once per node, to the inbox of
-- each node holding a recipient's socket. One script: every session sees the
-- events of all nodes in the same order. Idempotent by delivery id (retries).
-- ARGV: delivery id, app, body (`{"type":…}`), replay frames kept,
--       then recipients: user, token ('' = the user's current session), …
local id, app, body, keep = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if not redis.call('SET', P .. 'dd:' .. id, '1', 'NX', 'PX', 120000) then return {0, 0} end
local tail = string.sub(body, 2)
local by_node, nodes = {}, {}
local numbered = 0
for i = 5, #ARGV, 2 do
  local user, token = ARGV[i], ARGV[i + 1]
  if token == '' then token = redis.call('GET', P .. 'us:' .. app .. ':' .. user) end
  if token and redis.call('EXISTS', P .. 's:' .. token) == 1 then
    local seq = redis.call('INCR', P .. 'sq:' .. token)
    redis.call('XADD', P .. 'ss:' .. token, 'MAXLEN', keep, '0-' .. seq, 'f', '{"seq":' .. seq .. ',' .. tail)
    numbered = numbered + 1
    local node = redis.call('HGET', P .. 'sx:' .. token, 'node')
    if node then
      if not by_node[node] then by_node[node] = {}; nodes[#nodes + 1] = node end
      local list = by_node[node]
      list[#list + 1] = user
      list[#list + 1] = token
      list[#list + 1] = seq
    end
  end
end
local remote = {}
for _, node in ipairs(nodes) do
  local inbox = P .. 'inbox:' .. node
  redis.call('XADD', inbox, 'MAXLEN', '~', 100000, '*',
    'app', app, 'body', body, 'to', table.concat(by_node[node], '\n'))
  -- The inbox of a node gone for good (ids default to host and pid) goes an hour later.
  redis.call('PEXPIRE', inbox, 3600000)
  remote[#remote + 1] = node
  remote[#remote + 1] = #by_node[node] / 3
end
return {numbered, remote}
