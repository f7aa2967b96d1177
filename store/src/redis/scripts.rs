//! Lua scripts for the few updates that must compare and set in one step.

use std::sync::LazyLock;

use redis::Script;

/// Extends KEYS[1] by ARGV[2] ms if it holds ARGV[1]; 1 if extended.
pub static EXPIRE_IF_EQUAL: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"if redis.call('GET', KEYS[1]) == ARGV[1] then
            return redis.call('PEXPIRE', KEYS[1], ARGV[2])
          end
          return 0",
    )
});

/// Deletes KEYS[1] if it holds ARGV[1]; 1 if deleted.
pub static DELETE_IF_EQUAL: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"if redis.call('GET', KEYS[1]) == ARGV[1] then
            return redis.call('DEL', KEYS[1])
          end
          return 0",
    )
});

/// Next transaction id in 1..=2^31-1, wrapping to 1.
pub static NEXT_TRANSACTION_ID: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"local v = redis.call('INCR', KEYS[1])
          if v > 2147483647 then
            redis.call('SET', KEYS[1], 1)
            v = 1
          end
          return v",
    )
});

/// Stores connector state ARGV[2] under field ARGV[1] unless the stored one is newer than
/// ARGV[3] (ms). KEYS: states hash, times hash. 1 if stored.
pub static PUT_IF_NOT_OLDER: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"local t = redis.call('HGET', KEYS[2], ARGV[1])
          if t and tonumber(t) > tonumber(ARGV[3]) then
            return 0
          end
          redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
          redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
          return 1",
    )
});

/// Lease acquisition. KEYS: lease, counter. ARGV: holder, ttl ms. Returns "token:holder" of the
/// lease now held by ARGV[1], or false when another holder has it.
pub static ACQUIRE_LEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"local cur = redis.call('GET', KEYS[1])
          if cur then
            local sep = string.find(cur, ':', 1, true)
            if string.sub(cur, sep + 1) == ARGV[1] then
              redis.call('PEXPIRE', KEYS[1], ARGV[2])
              return cur
            end
            return false
          end
          local t = redis.call('INCR', KEYS[2])
          local v = tostring(t) .. ':' .. ARGV[1]
          redis.call('SET', KEYS[1], v, 'PX', ARGV[2])
          return v",
    )
});

/// Fencing: KEYS[1] holds the highest token seen for a site. If ARGV[1] is lower, nothing is
/// written and 0 is returned; otherwise it becomes the highest seen and, by ARGV[2] (`set` or
/// `hset` or `none`), KEYS[2] is set to ARGV[3] or its field ARGV[3] to ARGV[4]. 1 if written.
pub static FENCED_WRITE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"local seen = tonumber(redis.call('GET', KEYS[1]) or '0')
          local token = tonumber(ARGV[1])
          if token < seen then return 0 end
          if token > seen then redis.call('SET', KEYS[1], ARGV[1]) end
          if ARGV[2] == 'set' then redis.call('SET', KEYS[2], ARGV[3])
          elseif ARGV[2] == 'hset' then redis.call('HSET', KEYS[2], ARGV[3], ARGV[4]) end
          return 1",
    )
});

/// Appends audit entry ARGV[1] (JSON, its time ARGV[2] in ms) under the next id of counter
/// KEYS[1] to sorted set KEYS[2] as member `<id>:<ms>:<json>`, then drops the oldest entries
/// (up to 100 a call) whose time is before ARGV[3] ms. Returns the id.
pub static APPEND_AUDIT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"local id = redis.call('INCR', KEYS[1])
          redis.call('ZADD', KEYS[2], id, id .. ':' .. ARGV[2] .. ':' .. ARGV[1])
          local oldest = redis.call('ZRANGE', KEYS[2], 0, 99)
          for _, member in ipairs(oldest) do
            local at = tonumber(string.match(member, '^%d+:(%d+):'))
            if at == nil or at >= tonumber(ARGV[3]) then break end
            redis.call('ZREM', KEYS[2], member)
          end
          return id",
    )
});

/// Writes settings into hash KEYS[1]: ARGV[1] is the most fields kept, then key/value pairs.
/// A known key is replaced; a new one is added only while the hash has room. Returns the
/// number written.
pub static RECORD_SETTINGS: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"local max = tonumber(ARGV[1])
          local written = 0
          for i = 2, #ARGV, 2 do
            if redis.call('HEXISTS', KEYS[1], ARGV[i]) == 1 or redis.call('HLEN', KEYS[1]) < max then
              redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
              written = written + 1
            end
          end
          return written",
    )
});

/// Sets KEYS[1] to ARGV[1] (a number) unless it holds a larger one; 1 if set.
pub static SET_IF_LATER: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"local held = tonumber(redis.call('GET', KEYS[1]))
          if held ~= nil and held >= tonumber(ARGV[1]) then
            return 0
          end
          redis.call('SET', KEYS[1], ARGV[1])
          return 1",
    )
});
