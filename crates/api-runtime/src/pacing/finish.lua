-- A request finished: it leaves the in-flight sets, and what its response said corrects the
-- shared state, as the in-process pacer learns.
-- KEYS: the state of the scope that learns (the operation's when it has a budget, else the
-- client's), then the in-flight sets the request is counted in.
-- ARGV: the request's id, learn (1: a response arrived and the client learns from headers),
-- the window epoch the request was sent in, 429 (1/0), then from the response (-1: absent):
-- limit, remaining, reset, Retry-After, and the window assumed when no reset is given.
for i = 2, #KEYS do
  expect(KEYS[i], 'zset')
  redis.call('ZREM', KEYS[i], ARGV[1])
end
if ARGV[2] ~= '1' then return 0 end
local epoch = tonumber(ARGV[3])
local too_many = ARGV[4] == '1'
local limit = tonumber(ARGV[5])
local remaining = tonumber(ARGV[6])
local reset = tonumber(ARGV[7])
local retry_after = tonumber(ARGV[8])
local default_window = tonumber(ARGV[9])

local s = load(KEYS[1])
if limit >= 0 then s.limit = whole(limit, 0, BIG) end
-- A 429's Retry-After says when to come back.
if too_many and retry_after >= 0 then
  local resume = now + math.min(retry_after, LONGEST)
  if s.pause == nil or resume > s.pause then s.pause = resume end
end
-- A response to a request sent in an earlier window says nothing of this one.
if remaining >= 0 and epoch == s.epoch then
  remaining = whole(remaining, 0, BIG)
  if s.left == nil or remaining < s.left then s.left = remaining end
  if reset < 0 then reset = default_window end
  local ends = now + math.min(reset, LONGEST)
  if s.ends == nil or ends < s.ends then s.ends = ends end
end
save(s)
return 1
