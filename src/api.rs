//! Access to the Redis module API functions, and the load-time check that
//! every one of them exists.
//!
//! `redis-module` exposes each API function as an `Option`, filled in by
//! Redis when the module loads; a function the running Redis lacks stays
//! `None`. `init` refuses to load (with the names in the log) unless
//! `missing()` is empty, so after load the `None` arm of `call!` is never
//! taken, and even so it yields a harmless fallback instead of the panic an
//! `unwrap()` would turn into a crash of the whole server.

/// Calls a module API function: `call!(RedisModule_X(args...) or fallback)`.
/// The call is unsafe like every FFI call; callers wrap it in `unsafe` with
/// a SAFETY note.
macro_rules! call {
    ($name:ident($($arg:expr),* $(,)?) or $fallback:expr) => {
        match redis_module::raw::$name {
            Some(function) => function($($arg),*),
            None => $fallback,
        }
    };
}
pub(crate) use call;

macro_rules! present {
    ($($name:ident),* $(,)?) => {
        // SAFETY: reading the function table filled in at load time.
        unsafe { [$((stringify!($name), { let function = redis_module::raw::$name; function.is_some() })),*] }
    };
}

/// The API functions this module (or `redis-module` on its behalf) calls
/// after load that the running Redis does not offer.
pub fn missing() -> Vec<&'static str> {
    let table = present!(
        // keys, hashes and sorted sets
        RedisModule_OpenKey,
        RedisModule_CloseKey,
        RedisModule_KeyType,
        RedisModule_DeleteKey,
        RedisModule_UnlinkKey,
        RedisModule_ValueLength,
        RedisModule_SignalModifiedKey,
        RedisModule_HashSet,
        RedisModule_ScanCursorCreate,
        RedisModule_ScanKey,
        RedisModule_ScanCursorDestroy,
        RedisModule_ScanCursorRestart,
        RedisModule_Scan,
        RedisModule_DbSize,
        RedisModule_ZsetAdd,
        RedisModule_ZsetRem,
        RedisModule_ZsetScore,
        RedisModule_ZsetFirstInScoreRange,
        RedisModule_ZsetRangeEndReached,
        RedisModule_ZsetRangeCurrentElement,
        RedisModule_ZsetRangeNext,
        RedisModule_ZsetLastInScoreRange,
        RedisModule_ZsetRangePrev,
        RedisModule_ZsetRangeStop,
        // strings
        RedisModule_CreateString,
        RedisModule_CreateStringFromLongLong,
        RedisModule_FreeString,
        RedisModule_RetainString,
        RedisModule_StringPtrLen,
        // replies, effects, events
        RedisModule_ReplyWithLongLong,
        RedisModule_ReplyWithStringBuffer,
        RedisModule_ReplyWithArray,
        RedisModule_ReplyWithMap,
        RedisModule_ReplyWithNull,
        RedisModule_ReplyWithError,
        RedisModule_WrongArity,
        RedisModule_RedactClientCommandArgument,
        RedisModule_Replicate,
        RedisModule_NotifyKeyspaceEvent,
        RedisModule_GetNotifyKeyspaceEvents,
        RedisModule_Call,
        RedisModule_CallReplyType,
        RedisModule_CallReplyInteger,
        RedisModule_CallReplyLength,
        RedisModule_CallReplyArrayElement,
        RedisModule_CallReplyStringPtr,
        RedisModule_FreeCallReply,
        // clock, databases, timers, settings, log
        RedisModule_Milliseconds,
        RedisModule_SelectDb,
        RedisModule_GetSelectedDb,
        RedisModule_GetContextFlags,
        RedisModule_AvoidReplicaTraffic,
        RedisModule_CreateTimer,
        // blocked clients, waiting for a big kill (graves/waiting.rs)
        RedisModule_BlockClient,
        RedisModule_UnblockClient,
        RedisModule_GetThreadSafeContext,
        RedisModule_FreeThreadSafeContext,
        RedisModule_SetModuleOptions,
        RedisModule_RegisterNumericConfig,
        RedisModule_RegisterStringConfig,
        RedisModule_LoadConfigs,
        RedisModule_Log,
        RedisModule_RegisterInfoFunc,
        RedisModule_InfoAddSection,
        RedisModule_InfoAddFieldLongLong,
        RedisModule_GetServerInfo,
        RedisModule_ServerInfoGetFieldC,
        RedisModule_FreeServerInfo,
    );
    table
        .iter()
        .filter(|(_, ok)| !ok)
        .map(|(name, _)| *name)
        .collect()
}
