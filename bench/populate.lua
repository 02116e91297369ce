-- Fills an app with sessions whose tokens redis-benchmark can address:
-- <52-character prefix><12-digit number>, the number being what
-- redis-benchmark substitutes for __rand_int__. It writes exactly what
-- SESS.CREATE writes (session hash, the user's token index, the expiry and
-- activity indexes); the benchmark checks that SESS.GET then finds them.
-- Last activity is spread over the past hour, as in a live store.
-- ARGV: app, token prefix, first number, last number, users, now, with data (1/0),
-- spread (seconds over which last activity is spread, default 3600)
local app, prefix, from, to, users, now = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local data = ARGV[7] == '1'
local spread = tonumber(ARGV[8] or '3600')
local base = 'rs:{' .. app .. '}:'
for i = from, to do
  local tok = prefix .. string.format('%012d', i)
  local u = i % users
  local id = 'user' .. string.format('%012d', u)
  local la = now - (u % spread)
  if data then
    redis.call('HSET', base .. tok, 'id', id, 'r', 1, 'w', 1, 'ip', '10.0.0.1', 'la', la, 'ttl', 7200, 'd', '{"cart":1,"theme":"dark"}')
  else
    redis.call('HSET', base .. tok, 'id', id, 'r', 1, 'w', 1, 'ip', '10.0.0.1', 'la', la, 'ttl', 7200)
  end
  redis.call('ZADD', base .. 'us:' .. id, la + 7201, tok)
  redis.call('ZADD', base .. '_expiry', la + 7201, id)
  redis.call('ZADD', base .. '_users', la, id)
end
return to - from + 1
