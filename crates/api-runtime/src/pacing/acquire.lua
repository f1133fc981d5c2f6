-- One decision for one attempt of a call: go now (counted in flight), wait (how long), or
-- refuse (the wait is longer than the caller's limits), as the in-process pacer decides.
-- KEYS: the client's state and in-flight set, then the operation's (when it has a budget).
-- ARGV: reserved (1: the call already holds its budget instant), the client's and the
-- operation's budget intervals (0: none), the wait allowed by the client's longest wait and
-- by the call deadline (-1: no limit), the request's id, its lease, the re-check interval.
-- Replies {0, 0, client epoch, operation epoch} (go), {1, wait} (wait for the windows),
-- {2, wait} (wait for the reserved budget instant), {3, wait} (longer than the longest
-- wait), {4, wait} (past the deadline).
local reserved = ARGV[1] == '1'
local intervals = { tonumber(ARGV[2]), tonumber(ARGV[3]) }
local give_up = tonumber(ARGV[4])
local deadline = tonumber(ARGV[5])
local id = ARGV[6]
local lease = math.min(tonumber(ARGV[7]), LEASE_CAP)
local recheck = tonumber(ARGV[8])

local scopes = {}
for i = 1, #KEYS, 2 do
  local s = load(KEYS[i])
  s.flight_key = KEYS[i + 1]
  s.flying = in_flight(KEYS[i + 1])
  s.interval = intervals[(i + 1) / 2]
  table.insert(scopes, s)
end

-- The earliest instant the window and the pause allow a request. The requests in flight may
-- not be counted in what the server reported left yet, so they are taken from it.
local function open_at(s)
  local at = now
  if s.left ~= nil and s.left <= s.flying then
    if s.ends ~= nil then
      at = s.ends
    elseif s.flying > 0 then
      -- A new window the requests in flight may have spent: their responses will say.
      at = now + recheck
    end
  end
  if s.pause ~= nil and s.pause > at then at = s.pause end
  return at
end

local open, slot = now, now
for _, s in ipairs(scopes) do
  open = math.max(open, open_at(s))
  if not reserved and s.interval > 0 and s.tat ~= nil then slot = math.max(slot, s.tat) end
end

local function reply(value)
  for _, s in ipairs(scopes) do save(s) end
  return value
end

local at = math.max(open, slot)
if at > now then
  local wait = at - now
  if give_up >= 0 and wait > give_up then return reply({3, wait}) end
  if deadline >= 0 and wait > deadline then return reply({4, wait}) end
end
if open > now then return reply({1, open - now}) end
if not reserved then
  -- GCRA with a burst of one: the budget's next free instant moves one interval on, and a
  -- call that comes before it queues for it.
  for _, s in ipairs(scopes) do
    if s.interval > 0 then s.tat = math.min(slot + s.interval, now + LONGEST) end
  end
  if slot > now then return reply({2, slot - now}) end
end
for _, s in ipairs(scopes) do
  redis.call('ZADD', s.flight_key, digits(now + lease), id)
  redis.call('PEXPIRE', s.flight_key, LIFETIME)
end
local second = 0
if scopes[2] ~= nil then second = scopes[2].epoch end
return reply({0, 0, scopes[1].epoch, second})
