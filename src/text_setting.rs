//! A text setting of the module (`CONFIG GET/SET sess.<name>`): its value,
//! its check, and the Redis string `CONFIG GET` borrows.

use std::ffi::{c_char, c_void, CString};
use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};
use std::sync::Mutex;

use redis_module::{raw, Context, RedisString};

use crate::api::call;
use crate::redis_string::detached;

pub struct TextSetting {
    pub name: &'static str,
    pub default: &'static str,
    /// Whether `CONFIG SET` may change it at run time.
    mutable: bool,
    /// Refuses a value with a message for the user.
    check: fn(&[u8]) -> Result<(), String>,
    value: Mutex<Vec<u8>>,
    /// Whether the value is not empty, readable without the lock (checked
    /// on every miss of a session, see import/).
    set: AtomicBool,
    /// The same value as a Redis string owned by the module.
    redis_string: AtomicPtr<raw::RedisModuleString>,
}

impl TextSetting {
    pub const fn new(
        name: &'static str,
        default: &'static str,
        mutable: bool,
        check: fn(&[u8]) -> Result<(), String>,
    ) -> TextSetting {
        TextSetting {
            name,
            default,
            mutable,
            check,
            value: Mutex::new(Vec::new()),
            set: AtomicBool::new(false),
            redis_string: AtomicPtr::new(std::ptr::null_mut()),
        }
    }

    /// The value in force.
    pub fn get(&self) -> Vec<u8> {
        self.value.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// Whether the value is not empty.
    pub fn is_set(&self) -> bool {
        self.set.load(Ordering::Relaxed)
    }

    /// Checks a value from a module argument.
    pub fn check(&self, value: &[u8]) -> Result<(), String> {
        (self.check)(value)
    }

    /// Registers the setting with `default` (already checked).
    pub fn register(&'static self, ctx: &Context, default: &[u8]) -> Result<(), String> {
        self.store(default);
        let name = CString::new(self.name).map_err(|e| e.to_string())?;
        let default = CString::new(default).map_err(|e| e.to_string())?;
        let flags = config_flags(self.mutable);
        // SAFETY: self is 'static, so the private-data pointer outlives
        // Redis's use of it.
        let status = unsafe {
            call!(RedisModule_RegisterStringConfig(
                ctx.get_raw(),
                name.as_ptr(),
                default.as_ptr(),
                flags,
                Some(get_text),
                Some(set_text),
                None,
                self as *const TextSetting as *mut c_void,
            ) or raw::REDISMODULE_ERR as i32)
        };
        registered(status, self.name)
    }

    fn store(&self, value: &[u8]) {
        if let Ok(mut current) = self.value.lock() {
            *current = value.to_vec();
        }
        self.set.store(!value.is_empty(), Ordering::Relaxed);
        // Owned by this module until replaced.
        let fresh = detached(value);
        let old = self.redis_string.swap(fresh, Ordering::AcqRel);
        if !old.is_null() {
            // SAFETY: old was created by an earlier store and is no longer
            // shared: CONFIG GET copies the string it borrows.
            unsafe { call!(RedisModule_FreeString(std::ptr::null_mut(), old) or ()) };
        }
    }
}

/// The registration flags of a setting that `CONFIG SET` may or may not
/// change.
pub fn config_flags(mutable: bool) -> u32 {
    if mutable {
        raw::REDISMODULE_CONFIG_DEFAULT
    } else {
        raw::REDISMODULE_CONFIG_IMMUTABLE
    }
}

/// The outcome of a registration, with the setting's name when it failed.
pub fn registered(status: i32, name: &str) -> Result<(), String> {
    if status == raw::REDISMODULE_OK as i32 {
        Ok(())
    } else {
        Err(format!("could not register the setting {name}"))
    }
}

extern "C" fn get_text(_name: *const c_char, privdata: *mut c_void) -> *mut raw::RedisModuleString {
    // SAFETY: privdata is the &'static TextSetting given at registration.
    let setting = unsafe { &*(privdata as *const TextSetting) };
    setting.redis_string.load(Ordering::Acquire)
}

extern "C" fn set_text(
    _name: *const c_char,
    value: *mut raw::RedisModuleString,
    privdata: *mut c_void,
    err: *mut *mut raw::RedisModuleString,
) -> i32 {
    // SAFETY: as in get_text.
    let setting = unsafe { &*(privdata as *const TextSetting) };
    let bytes = RedisString::string_as_slice(value);
    match setting.check(bytes) {
        Ok(()) => {
            setting.store(bytes);
            raw::REDISMODULE_OK as i32
        }
        Err(message) => {
            let message = message.replace(['\r', '\n', '\0'], " ");
            // SAFETY: err is where Redis wants the error; it takes ownership.
            unsafe { *err = detached(message.as_bytes()) };
            raw::REDISMODULE_ERR as i32
        }
    }
}
