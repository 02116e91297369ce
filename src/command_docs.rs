//! What `COMMAND DOCS sess.*` shows (summary, since, complexity and the
//! arguments, which redis-cli turns into argument hints), and the `session`
//! ACL category on servers that let modules add one.
//!
//! Redis copies everything given to `RM_SetCommandInfo`, so the C strings
//! built here only live for the call. Documentation is a nicety: a server
//! that refuses it (or lacks the API) only gets a line in the log.

use std::ffi::{c_char, c_int, CString};

use redis_module::{raw, Context};

use crate::api::call;

/// One argument as the docs describe it.
enum Arg {
    /// The app name: the command's key.
    Key(&'static str),
    Text(&'static str),
    Integer(&'static str),
    /// `TOKEN value`, optional.
    Option(&'static str, &'static str, Kind),
    /// A bare optional token such as NORESAVE.
    Flag(&'static str),
}

#[derive(Clone, Copy)]
enum Kind {
    Text,
    Integer,
}

struct Doc {
    name: &'static str,
    summary: &'static str,
    complexity: &'static str,
    args: &'static [Arg],
}

const SINCE: &str = "1.0.0";

use Arg::{Flag, Integer, Key, Option as Opt, Text};

const DOCS: [Doc; 13] = [
    Doc {
        name: "sess.create",
        summary: "Creates a session and returns its token",
        complexity:
            "O(log N) with N the app's users; MAXSESSIONS adds O(S) with S the user's sessions",
        args: &[
            Key("app"),
            Text("id"),
            Text("ip"),
            Opt("TTL", "ttl", Kind::Integer),
            Opt("DATA", "json", Kind::Text),
            Flag("NORESAVE"),
            Opt("MAXAGE", "seconds", Kind::Integer),
            Opt("MAXSESSIONS", "n", Kind::Integer),
            Opt("TOKEN", "token", Kind::Text),
        ],
    },
    Doc {
        name: "sess.get",
        summary: "Returns a session and records the read (JSON: as one JSON text)",
        complexity: "O(log N) with N the app's users",
        args: &[Key("app"), Text("token"), Flag("JSON")],
    },
    Doc {
        name: "sess.peek",
        summary: "Returns a session as SESS.GET would, changing nothing",
        complexity: "O(1)",
        args: &[Key("app"), Text("token"), Flag("JSON")],
    },
    Doc {
        name: "sess.set",
        summary: "Merges JSON data into a session (TTL: and sets its idle ttl) and returns it",
        complexity: "O(M + log N) with M the data size and N the app's users",
        args: &[
            Key("app"),
            Text("token"),
            Text("json"),
            Opt("TTL", "ttl", Kind::Integer),
            Flag("JSON"),
        ],
    },
    Doc {
        name: "sess.rotate",
        summary: "Gives a session a new token; the old one dies at once",
        complexity: "O(log N) with N the app's users",
        args: &[Key("app"), Text("token")],
    },
    Doc {
        name: "sess.assign",
        summary: "Gives a live session to another user id (login or logout that keeps the session)",
        complexity: "O(log N) with N the app's users",
        args: &[
            Key("app"),
            Text("token"),
            Text("id"),
            Opt("MAXSESSIONS", "n", Kind::Integer),
        ],
    },
    Doc {
        name: "sess.kill",
        summary: "Removes one session",
        complexity: "O(log N) with N the app's users",
        args: &[Key("app"), Text("token")],
    },
    Doc {
        name: "sess.killall",
        summary: "Removes every session of an app",
        complexity: "O(S) with S the app's sessions",
        args: &[Key("app")],
    },
    Doc {
        name: "sess.killsoid",
        summary: "Removes every session of a user, or all but one with EXCEPT",
        complexity: "O(S + log N) with S the user's sessions and N the app's users",
        args: &[Key("app"), Text("id"), Opt("EXCEPT", "token", Kind::Text)],
    },
    Doc {
        name: "sess.soid",
        summary: "Lists a user's live sessions, most recently active first",
        complexity: "O(S log S) with S the user's sessions (LIMIT bounds the reply, not the work)",
        args: &[
            Key("app"),
            Text("id"),
            Opt("LIMIT", "count", Kind::Integer),
            Flag("JSON"),
        ],
    },
    Doc {
        name: "sess.soapp",
        summary: "Lists an app's sessions active within dt seconds",
        complexity: "O(U + S log S) with U the users and S the sessions active in the window; with LIMIT, U and S count only the most recent users needed to fill it",
        args: &[
            Key("app"),
            Integer("dt"),
            Opt("LIMIT", "count", Kind::Integer),
            Flag("JSON"),
        ],
    },
    Doc {
        name: "sess.import",
        summary: "Moves up to COUNT (default 100) of an app's redis-sessions sessions into the module's layout",
        complexity: "O(C log N) with C the sessions moved and N the app's users",
        args: &[Key("app"), Opt("COUNT", "count", Kind::Integer)],
    },
    Doc {
        name: "sess.activity",
        summary: "Counts the users active within dt seconds",
        complexity: "O(log N) with N the app's users",
        args: &[Key("app"), Integer("dt")],
    },
];

/// Registers the docs of every command, then the ACL category.
pub fn register(ctx: &Context) {
    for doc in &DOCS {
        if let Err(problem) = set_info(ctx, doc) {
            ctx.log_notice(&format!("no COMMAND DOCS for {}: {problem}", doc.name));
        }
    }
    add_acl_category(ctx);
}

fn c(text: &str) -> CString {
    CString::new(text).unwrap_or_default()
}

fn set_info(ctx: &Context, doc: &Doc) -> Result<(), String> {
    // Every C string the structures point to, kept alive until the call ends.
    let mut strings: Vec<CString> = Vec::new();
    let mut keep = |text: &str| -> *const c_char {
        strings.push(c(text));
        strings.last().map_or(std::ptr::null(), |s| s.as_ptr())
    };
    let mut args: Vec<raw::RedisModuleCommandArg> = doc
        .args
        .iter()
        .map(|arg| {
            // SAFETY: an all-zero RedisModuleCommandArg is the documented
            // "unset" value of every field (and the array terminator).
            let mut out: raw::RedisModuleCommandArg = unsafe { std::mem::zeroed() };
            out.key_spec_index = -1;
            out.since = std::ptr::null();
            let (name, kind, token, optional) = match arg {
                Key(name) => (
                    *name,
                    raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_KEY,
                    None,
                    false,
                ),
                Text(name) => (
                    *name,
                    raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_STRING,
                    None,
                    false,
                ),
                Integer(name) => (
                    *name,
                    raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_INTEGER,
                    None,
                    false,
                ),
                Opt(token, name, kind) => {
                    let kind = match kind {
                        Kind::Text => raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_STRING,
                        Kind::Integer => {
                            raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_INTEGER
                        }
                    };
                    (*name, kind, Some(*token), true)
                }
                Flag(token) => (
                    *token,
                    raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_PURE_TOKEN,
                    Some(*token),
                    true,
                ),
            };
            out.name = keep(&name.to_ascii_lowercase());
            out.type_ = kind;
            if kind == raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_KEY {
                // The key spec Redis made from (first key 1, last 1, step 1).
                out.key_spec_index = 0;
            }
            if let Some(token) = token {
                out.token = keep(token);
            }
            if optional {
                out.flags = raw::REDISMODULE_CMD_ARG_OPTIONAL as c_int;
            }
            out
        })
        .collect();
    // SAFETY: as above, the zeroed terminator.
    args.push(unsafe { std::mem::zeroed() });
    let version = raw::RedisModuleCommandInfoVersion {
        version: 1,
        sizeof_historyentry: std::mem::size_of::<raw::RedisModuleCommandHistoryEntry>(),
        sizeof_keyspec: std::mem::size_of::<raw::RedisModuleCommandKeySpec>(),
        sizeof_arg: std::mem::size_of::<raw::RedisModuleCommandArg>(),
    };
    let info = raw::RedisModuleCommandInfo {
        version: &version,
        summary: keep(doc.summary),
        complexity: keep(doc.complexity),
        since: keep(SINCE),
        history: std::ptr::null_mut(),
        tips: std::ptr::null(),
        arity: 0,
        key_specs: std::ptr::null_mut(),
        args: args.as_mut_ptr(),
    };
    let name = c(doc.name);
    // SAFETY: called from OnLoad; every pointer in `info` is alive for the
    // call, and Redis copies what it keeps.
    unsafe {
        let command =
            call!(RedisModule_GetCommand(ctx.get_raw(), name.as_ptr()) or std::ptr::null_mut());
        if command.is_null() {
            return Err("command not found".into());
        }
        let status =
            call!(RedisModule_SetCommandInfo(command, &info) or raw::REDISMODULE_ERR as c_int);
        if status != raw::REDISMODULE_OK as c_int {
            return Err("refused by this server".into());
        }
    }
    Ok(())
}

/// Puts every command in a `session` category (`ACL SETUSER app +@session`)
/// where the server lets modules add categories (Redis 7.4 and newer); on
/// older servers grant the commands by name.
fn add_acl_category(ctx: &Context) {
    let category = c"session";
    // SAFETY: called from OnLoad; the API may be missing on this server,
    // which the fallback reports as an error status.
    unsafe {
        let added = call!(RedisModule_AddACLCategory(ctx.get_raw(), category.as_ptr())
            or raw::REDISMODULE_ERR as c_int);
        if added != raw::REDISMODULE_OK as c_int {
            return;
        }
        for doc in &DOCS {
            let name = c(doc.name);
            let command =
                call!(RedisModule_GetCommand(ctx.get_raw(), name.as_ptr()) or std::ptr::null_mut());
            if command.is_null()
                || call!(RedisModule_SetCommandACLCategories(command, category.as_ptr())
                    or raw::REDISMODULE_ERR as c_int)
                    != raw::REDISMODULE_OK as c_int
            {
                ctx.log_notice(&format!("could not put {} in @session", doc.name));
            }
        }
    }
}
