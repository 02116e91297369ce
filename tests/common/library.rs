//! Sessions in the layout of the Node library redis-sessions 4.0, written
//! command for command as its `create` writes them (reference §6.1: one
//! MULTI), for the tests of the import.

use super::Client;

/// One session of user `id` under `token` in app `app` of namespace `rs`:
/// last active at `la`, `ttl` seconds, with `extra` hash fields (`d`,
/// `no_resave`).
pub fn write_session(
    c: &mut Client,
    (app, id, token): (&str, &str, &str),
    la: i64,
    ttl: i64,
    extra: &[(&str, &str)],
) {
    let member = format!("{token}:{id}");
    let mut hset: Vec<String> = vec!["HSET".into(), format!("rs:{app}:{token}")];
    for (field, value) in [
        ("id", id.to_string()),
        ("r", "1".into()),
        ("w", "1".into()),
        ("ip", "10.1.2.3".into()),
        ("la", la.to_string()),
        ("ttl", ttl.to_string()),
    ] {
        hset.extend([field.to_string(), value]);
    }
    for (field, value) in extra {
        hset.extend([field.to_string(), value.to_string()]);
    }
    let (expires, la) = ((la + ttl).to_string(), la.to_string());
    let replies = c.pipeline(&[
        vec!["MULTI".to_string()],
        vec![
            "ZADD".into(),
            format!("rs:{app}:_sessions"),
            la.clone(),
            member.clone(),
        ],
        vec![
            "ZADD".into(),
            format!("rs:{app}:_users"),
            la.clone(),
            id.into(),
        ],
        vec![
            "ZADD".into(),
            "rs:SESSIONS".into(),
            expires,
            format!("{app}:{member}"),
        ],
        vec!["SADD".into(), format!("rs:{app}:us:{id}"), token.into()],
        hset,
        vec!["EXEC".into()],
    ]);
    assert!(!replies.last().unwrap().is_error(), "{replies:?}");
}
