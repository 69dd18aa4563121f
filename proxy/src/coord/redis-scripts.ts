/**
 * Lua scripts for Redis locks. Each runs atomically on the server, so "check
 * the holder, then act" cannot interleave with another client's acquire.
 */

/**
 * KEYS[1] lock key, KEYS[2] fencing counter; ARGV[1] holder id, ARGV[2] lease ms.
 * Returns 0 when the lock is held, else the new fencing token, with the lock
 * set to `<holder>:<token>` for the lease. A missing counter (first use, or
 * Redis lost its data) restarts from the server clock in ms × 1000, so tokens
 * keep increasing past any a store recorded before (see validate.ts).
 */
export const acquireScript = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if redis.call('EXISTS', KEYS[2]) == 0 then
  -- Redis < 7 replicates scripts verbatim unless told otherwise, and TIME is not deterministic.
  if redis.replicate_commands then redis.replicate_commands() end
  local t = redis.call('TIME')
  local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('SET', KEYS[2], string.format('%.0f', ms * 1000))
end
local token = redis.call('INCR', KEYS[2])
-- '%.0f', not tostring: Lua 5.1 would print a 16-digit token as 1.7e+15.
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. string.format('%.0f', token), 'PX', ARGV[2])
return token
`;

/** KEYS[1] lock key; ARGV[1] `<holder>:<token>`, ARGV[2] lease ms. 1 when extended, 0 when no longer ours. */
export const renewScript = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;

/** KEYS[1] lock key; ARGV[1] `<holder>:<token>`. Deletes only our own lock. */
export const releaseScript = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;
