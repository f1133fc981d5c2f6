-- Shared by the pacer's scripts (acquire.lua, finish.lua): the state of one scope (the
-- client, or an operation with a budget of its own) and its requests in flight, read with
-- every value clamped, on the Redis server's clock. Times are microseconds since
-- 2017-01-01 (as go-redis/redis_rate counts them), so that they stay exact in a double.
if redis.replicate_commands then redis.replicate_commands() end
local clock = redis.call('TIME')
local now = (tonumber(clock[1]) - 1483228800) * 1000000 + tonumber(clock[2])
-- The longest wait anything in Redis may impose (MAX_LEARNED_WAIT).
local LONGEST = @LONGEST@
-- The longest a request counts as in flight (IN_FLIGHT_LEASE).
local LEASE_CAP = @LEASE_CAP@
-- How long a key outlives its last write, in milliseconds.
local LIFETIME = @LIFETIME@
local BIG = 4503599627370496

-- A finite number, or nil: garbage, NaN and infinities are absent.
local function finite(value)
  local n = tonumber(value)
  if n == nil or n ~= n or n == math.huge or n == -math.huge then return nil end
  return n
end

-- A whole number within [low, high]; nil stays nil.
local function whole(value, low, high)
  if value == nil then return nil end
  value = math.floor(value)
  if value < low then return low end
  if value > high then return high end
  return value
end

local function digits(value)
  return string.format('%.0f', value)
end

-- A key of another type (written by something else) is dropped, not trusted.
local function expect(key, kind)
  local found = redis.call('TYPE', key)['ok']
  if found ~= kind and found ~= 'none' then redis.call('DEL', key) end
end

-- One scope's state. `ends` is the window's end, `left` the fewest requests left any
-- response of this window reported, `limit` the window's size, `pause` a 429's end, `tat`
-- the budget's next free instant (GCRA's theoretical arrival time).
local function load(key)
  expect(key, 'hash')
  local raw = redis.call('HMGET', key, 'epoch', 'end', 'left', 'limit', 'pause', 'tat')
  local s = { key = key }
  s.epoch = whole(finite(raw[1]), 0, BIG) or 0
  s.ends = whole(finite(raw[2]), 0, now + LONGEST)
  s.left = whole(finite(raw[3]), 0, BIG)
  s.limit = whole(finite(raw[4]), 0, BIG)
  s.pause = whole(finite(raw[5]), 0, now + LONGEST)
  s.tat = whole(finite(raw[6]), 0, now + LONGEST)
  if s.pause ~= nil and s.pause <= now then s.pause = nil end
  if s.tat ~= nil and s.tat <= now then s.tat = nil end
  -- Once the window has ended, the next one starts with the size the server gave.
  if s.ends ~= nil and now >= s.ends then
    s.epoch = (s.epoch + 1) % BIG
    s.ends = nil
    s.left = s.limit
  end
  return s
end

local function save(s)
  local set, unset = {}, {}
  local function put(field, value)
    if value == nil then
      table.insert(unset, field)
    else
      table.insert(set, field)
      table.insert(set, digits(value))
    end
  end
  put('epoch', s.epoch)
  put('end', s.ends)
  put('left', s.left)
  put('limit', s.limit)
  put('pause', s.pause)
  put('tat', s.tat)
  if #unset > 0 then redis.call('HDEL', s.key, unpack(unset)) end
  redis.call('HSET', s.key, unpack(set))
  redis.call('PEXPIRE', s.key, LIFETIME)
end

-- The requests in flight in a scope: members scored with the instant their lease ends, so
-- that a process that died with requests in flight frees their places when the leases end.
local function in_flight(key)
  expect(key, 'zset')
  redis.call('ZREMRANGEBYSCORE', key, '-inf', digits(now))
  redis.call('ZREMRANGEBYSCORE', key, '(' .. digits(now + LEASE_CAP), '+inf')
  return redis.call('ZCARD', key)
end
