//! Module configuration: `CONFIG GET/SET sess.<name>` and module arguments.
//!
//! Values may come from the `loadmodule` line (`default-ttl 3600`) or from
//! `sess.default-ttl 3600` lines in redis.conf; when both name a value,
//! redis.conf wins because Redis applies it after the module registers its
//! defaults. A bad value refuses the load with a message in the Redis log.
//! Registration is done here rather than through `redis_module!`, whose
//! config support ignores registration failures.

use std::ffi::{c_char, c_longlong, c_void, CString};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::OnceLock;

use redis_module::{raw, Context, RedisString};

use crate::api::call;
use crate::text_setting::{config_flags, registered, TextSetting};

/// A numeric setting with its bounds.
pub struct Numeric {
    pub name: &'static str,
    default: i64,
    min: i64,
    max: i64,
    mutable: bool,
    value: AtomicI64,
}

impl Numeric {
    const fn new(name: &'static str, default: i64, min: i64, max: i64) -> Numeric {
        Numeric {
            name,
            default,
            min,
            max,
            mutable: true,
            value: AtomicI64::new(default),
        }
    }

    pub fn get(&self) -> i64 {
        self.value.load(Ordering::Relaxed)
    }

    fn check(&self, raw: &str) -> Result<i64, String> {
        match raw.parse::<i64>() {
            Ok(v) if (self.min..=self.max).contains(&v) => Ok(v),
            _ => Err(format!(
                "invalid value for {}: expected an integer from {} to {}, got {raw:?}",
                self.name, self.min, self.max
            )),
        }
    }
}

/// Lifetime of a session created without TTL, in seconds.
pub static DEFAULT_TTL: Numeric = Numeric::new("default-ttl", 7200, 10, 31_536_000);
/// Largest JSON text accepted for, and stored as, one session's data.
pub static MAX_DATA_BYTES: Numeric = Numeric::new("max-data-bytes", 65_536, 16, 67_108_864);
/// Seconds after their last activity that users without a live session stay
/// in the activity index.
pub static ACTIVITY_HORIZON: Numeric = Numeric::new("activity-horizon", 2_592_000, 60, 315_360_000);
/// Milliseconds between two sweeper steps when there is no backlog.
pub static SWEEP_INTERVAL_MS: Numeric = Numeric::new("sweep-interval", 100, 10, 10_000);
/// Most sessions one sweeper step examines (the bound on its run time).
pub static SWEEP_BATCH: Numeric = Numeric::new("sweep-batch", 1000, 10, 1_000_000);

/// Library sessions the background import moves per app and sweeper step
/// while `import-namespace` is set (import/background.rs); 0 leaves the
/// moving to SESS.IMPORT and to the use of each session.
pub static IMPORT_BATCH: Numeric = Numeric::new("import-batch", 100, 0, 10_000);

const NUMERIC: [&Numeric; 6] = [
    &DEFAULT_TTL,
    &MAX_DATA_BYTES,
    &ACTIVITY_HORIZON,
    &SWEEP_INTERVAL_MS,
    &SWEEP_BATCH,
    &IMPORT_BATCH,
];

/// The key prefix. It cannot change at run time: every existing session
/// would be orphaned under the old prefix.
static PREFIX_SETTING: TextSetting = TextSetting::new("prefix", "rs", false, check_prefix);
/// The prefix in force, fixed once loading is done.
static PREFIX: OnceLock<Vec<u8>> = OnceLock::new();

/// The namespace of redis-sessions data to import (import/), empty when off.
/// Changes at run time: set for the migration, emptied once it is done.
pub static IMPORT_NAMESPACE: TextSetting =
    TextSetting::new("import-namespace", "", true, check_import_namespace);

const TEXT: [&TextSetting; 2] = [&PREFIX_SETTING, &IMPORT_NAMESPACE];

/// The key prefix, `rs` unless configured.
pub fn prefix() -> &'static [u8] {
    PREFIX
        .get()
        .map_or(PREFIX_SETTING.default.as_bytes(), Vec::as_slice)
}

/// Checks a prefix: it must not contain a brace (that would move the hash
/// tag away from the app), space or control character.
fn check_prefix(raw: &[u8]) -> Result<(), String> {
    if (1..=64).contains(&raw.len()) && printable(raw) {
        Ok(())
    } else {
        Err(format!(
            "invalid value for prefix: expected 1 to 64 printable ASCII characters without braces or spaces, got {:?}",
            String::from_utf8_lossy(raw)
        ))
    }
}

/// The library's namespace: any prefix it could be given, or nothing. Not
/// in a cluster, which the library never supported.
fn check_import_namespace(raw: &[u8]) -> Result<(), String> {
    if raw.is_empty() {
        return Ok(());
    }
    if !(raw.len() <= 64 && printable(raw)) {
        return Err(format!(
            "invalid value for import-namespace: expected nothing (off) or 1 to 64 printable ASCII characters without braces or spaces, got {:?}",
            String::from_utf8_lossy(raw)
        ));
    }
    if crate::server::cluster_mode() {
        return Err("import-namespace cannot be set in cluster mode: redis-sessions never ran on a cluster, so there is nothing to import".into());
    }
    Ok(())
}

/// Settings that cluster mode, known only once loading is under way, rules
/// out.
pub fn check_in_cluster() -> Result<(), String> {
    check_import_namespace(&IMPORT_NAMESPACE.get())
}

fn printable(raw: &[u8]) -> bool {
    raw.iter()
        .all(|b| b.is_ascii_graphic() && *b != b'{' && *b != b'}')
}

/// Registers every setting with Redis, taking defaults from the module
/// arguments, then lets Redis apply redis.conf. Returns a message for the log
/// when something is wrong.
pub fn load(ctx: &Context, args: &[RedisString]) -> Result<(), String> {
    let mut texts: Vec<Vec<u8>> = TEXT.iter().map(|t| t.default.as_bytes().to_vec()).collect();
    let mut defaults: Vec<i64> = NUMERIC.iter().map(|n| n.default).collect();
    if !args.len().is_multiple_of(2) {
        return Err("module arguments must be name/value pairs".into());
    }
    for pair in args.chunks(2) {
        let (name, value) = (pair[0].as_slice(), pair[1].as_slice());
        if let Some(i) = TEXT.iter().position(|t| t.name.as_bytes() == name) {
            TEXT[i].check(value)?;
            texts[i] = value.to_vec();
        } else if let Some(i) = NUMERIC.iter().position(|n| n.name.as_bytes() == name) {
            defaults[i] = NUMERIC[i].check(&String::from_utf8_lossy(value))?;
        } else {
            let known: Vec<&str> = NUMERIC
                .iter()
                .map(|n| n.name)
                .chain(TEXT.iter().map(|t| t.name))
                .collect();
            return Err(format!(
                "unknown module argument {:?}; known: {}",
                String::from_utf8_lossy(name),
                known.join(", ")
            ));
        }
    }
    for (numeric, default) in NUMERIC.iter().zip(defaults) {
        register_numeric(ctx, numeric, default)?;
    }
    for (text, default) in TEXT.iter().zip(texts) {
        text.register(ctx, &default)?;
    }
    // SAFETY: called from OnLoad with the module's context.
    if unsafe { call!(RedisModule_LoadConfigs(ctx.get_raw()) or raw::REDISMODULE_ERR as i32) }
        != raw::REDISMODULE_OK as i32
    {
        return Err("redis.conf holds an invalid sess.* setting (see the line above)".into());
    }
    let _ = PREFIX.set(PREFIX_SETTING.get());
    Ok(())
}

fn register_numeric(ctx: &Context, numeric: &'static Numeric, default: i64) -> Result<(), String> {
    numeric.value.store(default, Ordering::Relaxed);
    let name = CString::new(numeric.name).map_err(|e| e.to_string())?;
    let flags = config_flags(numeric.mutable);
    // SAFETY: numeric is 'static, so the private-data pointer outlives Redis's use.
    let status = unsafe {
        call!(RedisModule_RegisterNumericConfig(
            ctx.get_raw(),
            name.as_ptr(),
            default,
            flags,
            numeric.min,
            numeric.max,
            Some(get_numeric),
            Some(set_numeric),
            None,
            numeric as *const Numeric as *mut c_void,
        ) or raw::REDISMODULE_ERR as i32)
    };
    registered(status, numeric.name)
}

extern "C" fn get_numeric(_name: *const c_char, privdata: *mut c_void) -> c_longlong {
    // SAFETY: privdata is the &'static Numeric given at registration.
    let numeric = unsafe { &*(privdata as *const Numeric) };
    numeric.get()
}

extern "C" fn set_numeric(
    _name: *const c_char,
    value: c_longlong,
    privdata: *mut c_void,
    _err: *mut *mut raw::RedisModuleString,
) -> i32 {
    // SAFETY: as in get_numeric. Redis has already checked min and max.
    let numeric = unsafe { &*(privdata as *const Numeric) };
    numeric.value.store(value, Ordering::Relaxed);
    raw::REDISMODULE_OK as i32
}

/// For log lines: `name=value` of every setting in force.
pub fn describe() -> String {
    let mut parts: Vec<String> = NUMERIC
        .iter()
        .map(|n| format!("{}={}", n.name, n.get()))
        .collect();
    for text in TEXT {
        parts.push(format!(
            "{}={:?}",
            text.name,
            String::from_utf8_lossy(&text.get())
        ));
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_values_are_checked_against_their_bounds() {
        assert_eq!(DEFAULT_TTL.check("3600"), Ok(3600));
        let e = DEFAULT_TTL.check("5").unwrap_err();
        assert_eq!(
            e,
            "invalid value for default-ttl: expected an integer from 10 to 31536000, got \"5\""
        );
        assert!(SWEEP_BATCH.check("lots").is_err());
    }

    #[test]
    fn prefixes_cannot_break_the_hash_tag() {
        assert!(check_prefix(b"rs").is_ok());
        assert!(check_prefix(b"sess:v2").is_ok());
        for bad in [&b""[..], b"a{b", b"a}b", b"a b", b"a\0b", &[b'x'; 65]] {
            assert!(check_prefix(bad).is_err(), "{bad:?}");
        }
    }
}
