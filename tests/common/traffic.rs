//! A live app's workload for slot-migration tests: sessions made before the
//! move, cluster clients that GET, SET, CREATE, KILL and SOID without pause
//! while it runs, and the checks afterwards that every acknowledged write
//! holds and that short sessions expire on the new owner.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use redis::Value;

use super::cluster::cluster_connection;
use super::{eventually, Server};

const USERS: usize = 300;
const READ_POOL: usize = 1500;
const SET_POOL: usize = 200;
const KILL_POOL: usize = 300;

/// What the traffic saw; every list must stay empty.
#[derive(Default)]
pub struct Seen {
    wrong: Vec<String>,
    errors: Vec<String>,
    acked_sets: HashMap<String, i64>,
    created: Vec<String>,
    killed: Vec<String>,
    calls: usize,
}

fn query(con: &mut redis::cluster::ClusterConnection, args: &[&str]) -> redis::RedisResult<Value> {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query(con)
}

fn text(v: &Value) -> String {
    match v {
        Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        other => format!("{other:?}"),
    }
}

/// The flat field/value reply of GET or SET as pairs.
fn field(v: &Value, name: &str) -> Option<String> {
    let Value::Array(items) = v else { return None };
    items
        .chunks(2)
        .find(|pair| text(&pair[0]) == name)
        .map(|pair| match &pair[1] {
            Value::Int(n) => n.to_string(),
            other => text(other),
        })
}

/// The sessions made before the move.
pub struct Workload {
    pub app: String,
    /// Session tokens: the read pool, then the SET pool, then the KILL pool.
    pub tokens: Vec<String>,
    /// The user id of each token.
    pub owners: Vec<String>,
    /// Sessions with a ttl of 10 s, to be swept by the new owner.
    pub short: Vec<String>,
}

impl Workload {
    pub fn create(nodes: &[Server], app: &str) -> Workload {
        let mut con = cluster_connection(nodes);
        let mut tokens = Vec::new();
        let mut owner = Vec::new();
        for i in 0..READ_POOL + SET_POOL + KILL_POOL {
            let user = format!("u{}", i % USERS);
            let token = text(
                &query(
                    &mut con,
                    &["SESS.CREATE", app, &user, "10.0.0.1", "TTL", "3600"],
                )
                .unwrap(),
            );
            tokens.push(token);
            owner.push(user);
        }
        let short: Vec<String> = (0..30)
            .map(|i| {
                let user = format!("short{i}");
                text(
                    &query(
                        &mut con,
                        &["SESS.CREATE", app, &user, "10.0.0.2", "TTL", "10"],
                    )
                    .unwrap(),
                )
            })
            .collect();
        Workload {
            app: app.to_string(),
            tokens,
            owners: owner,
            short,
        }
    }

    /// Starts the traffic; `stop` ends it and tells what it saw.
    pub fn start(&self, nodes: &[Server]) -> Traffic {
        let load = self;
        let tokens = Arc::new(load.tokens.clone());
        let owner = Arc::new(load.owners.clone());
        let seen = Arc::new(Mutex::new(Seen::default()));
        let stop = Arc::new(AtomicBool::new(false));

        let mut workers = Vec::new();
        for role in ["get", "get", "set", "create", "kill", "soid"] {
            let (nodes_ports, tokens, owner, seen, stop, app) = (
                nodes.iter().map(|n| n.port).collect::<Vec<_>>(),
                tokens.clone(),
                owner.clone(),
                seen.clone(),
                stop.clone(),
                load.app.clone(),
            );
            workers.push(thread::spawn(move || {
                let urls: Vec<String> = nodes_ports
                    .iter()
                    .map(|p| format!("redis://127.0.0.1:{p}/"))
                    .collect();
                let mut con = redis::cluster::ClusterClient::builder(urls)
                    .retries(40)
                    .build()
                    .unwrap()
                    .get_connection()
                    .unwrap();
                let mut i = 0usize;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let outcome: Result<(), String> = match role {
                        "get" => {
                            let k = (i * 7919 + if role == "get" { 0 } else { 1 }) % READ_POOL;
                            match query(&mut con, &["SESS.GET", &app, &tokens[k]]) {
                                Ok(Value::Nil) => {
                                    Err(format!("wrong: GET of live session {k} answered nil"))
                                }
                                Ok(v) if field(&v, "id").as_deref() != Some(owner[k].as_str()) => {
                                    Err(format!("wrong: GET {k} answered {v:?}"))
                                }
                                Ok(_) => Ok(()),
                                Err(e) => Err(format!("error: GET: {e}")),
                            }
                        }
                        "set" => {
                            let k = READ_POOL + i % SET_POOL;
                            let json = format!(r#"{{"n":{i}}}"#);
                            match query(&mut con, &["SESS.SET", &app, &tokens[k], &json]) {
                                Ok(Value::Nil) => {
                                    Err(format!("wrong: SET of live session {k} answered nil"))
                                }
                                Ok(_) => {
                                    seen.lock()
                                        .unwrap()
                                        .acked_sets
                                        .insert(tokens[k].clone(), i as i64);
                                    Ok(())
                                }
                                Err(e) => Err(format!("error: SET: {e}")),
                            }
                        }
                        "create" => {
                            // New users and users that already have sessions.
                            let user = if i.is_multiple_of(2) {
                                format!("new{i}")
                            } else {
                                format!("u{}", i % USERS)
                            };
                            // Slow, as real sign-ins are: the migration must catch up.
                            thread::sleep(Duration::from_millis(5));
                            match query(
                                &mut con,
                                &["SESS.CREATE", &app, &user, "10.0.0.3", "TTL", "3600"],
                            ) {
                                Ok(Value::BulkString(t)) => {
                                    seen.lock()
                                        .unwrap()
                                        .created
                                        .push(String::from_utf8(t).unwrap());
                                    Ok(())
                                }
                                Ok(v) => Err(format!("wrong: CREATE answered {v:?}")),
                                Err(e) => Err(format!("error: CREATE: {e}")),
                            }
                        }
                        "kill" => {
                            if i > KILL_POOL {
                                thread::sleep(Duration::from_millis(5));
                                Ok(())
                            } else {
                                let k = READ_POOL + SET_POOL + i - 1;
                                match query(&mut con, &["SESS.KILL", &app, &tokens[k]]) {
                                    Ok(Value::Int(1)) => {
                                        seen.lock().unwrap().killed.push(tokens[k].clone());
                                        thread::sleep(Duration::from_millis(10));
                                        Ok(())
                                    }
                                    Ok(v) => Err(format!(
                                        "wrong: KILL of live session {k} answered {v:?}"
                                    )),
                                    Err(e) => Err(format!("error: KILL: {e}")),
                                }
                            }
                        }
                        _ => {
                            // Every read-pool session of the user is listed.
                            let user = format!("u{}", i % USERS);
                            match query(&mut con, &["SESS.SOID", &app, &user]) {
                                Ok(Value::Array(entries)) => {
                                    let listed: Vec<String> =
                                        entries.iter().filter_map(|e| field(e, "token")).collect();
                                    let missing = (0..READ_POOL)
                                        .filter(|k| {
                                            owner[*k] == user && !listed.contains(&tokens[*k])
                                        })
                                        .count();
                                    if missing == 0 {
                                        Ok(())
                                    } else {
                                        Err(format!(
                                            "wrong: SOID {user} misses {missing} live sessions"
                                        ))
                                    }
                                }
                                Ok(v) => Err(format!("wrong: SOID answered {v:?}")),
                                Err(e) => Err(format!("error: SOID: {e}")),
                            }
                        }
                    };
                    let mut seen = seen.lock().unwrap();
                    seen.calls += 1;
                    match outcome {
                        Ok(()) => {}
                        Err(e) if e.starts_with("wrong") => seen.wrong.push(e),
                        Err(e) => seen.errors.push(e),
                    }
                }
            }));
        }

        Traffic {
            stop,
            seen,
            workers,
        }
    }

    /// Every acknowledged write holds on the new owner, the traffic saw no
    /// error and no wrong answer, and the new owner sweeps short sessions.
    pub fn check(&self, nodes: &[Server], seen: &Seen, new_owner: &Server) {
        let load = self;
        let mut con = cluster_connection(nodes);
        eprintln!(
            "{} calls during the move: {} sessions SET, {} CREATEs, {} KILLs acknowledged",
            seen.calls,
            seen.acked_sets.len(),
            seen.created.len(),
            seen.killed.len()
        );
        assert!(
            seen.calls > 1000,
            "only {} calls overlapped the moves",
            seen.calls
        );
        assert!(
            seen.wrong.is_empty(),
            "{} wrong answers, first: {:?}",
            seen.wrong.len(),
            &seen.wrong[..seen.wrong.len().min(5)]
        );
        assert!(
            seen.errors.is_empty(),
            "{} errors, first: {:?}",
            seen.errors.len(),
            &seen.errors[..seen.errors.len().min(5)]
        );
        assert!(seen.created.len() > 20 && seen.killed.len() > 20 && seen.acked_sets.len() > 20);

        // Every acknowledged write holds on the new owner.
        for (k, token) in load.tokens.iter().enumerate().take(READ_POOL) {
            let v = query(&mut con, &["SESS.PEEK", &load.app, token]).unwrap();
            assert_eq!(
                field(&v, "id").as_deref(),
                Some(load.owners[k].as_str()),
                "read-pool session {k} lost"
            );
        }
        for (token, n) in &seen.acked_sets {
            let v = query(&mut con, &["SESS.PEEK", &load.app, token]).unwrap();
            assert_eq!(
                field(&v, "d"),
                Some(format!(r#"{{"n":{n}}}"#)),
                "an acknowledged SET was lost"
            );
        }
        for token in &seen.created {
            assert_ne!(
                query(&mut con, &["SESS.PEEK", &load.app, token]).unwrap(),
                Value::Nil,
                "a created session was lost"
            );
        }
        for token in &seen.killed {
            assert_eq!(
                query(&mut con, &["SESS.PEEK", &load.app, token]).unwrap(),
                Value::Nil,
                "a killed session came back"
            );
        }
        // The new owner's sweeper removes the short sessions with their indexes.
        let mut cc = new_owner.client();
        let gone = eventually(30, || {
            load.short.iter().enumerate().all(|(i, token)| {
                cc.call(&[
                    "EXISTS",
                    &format!("rs:{{{}}}:{token}", load.app),
                    &format!("rs:{{{}}}:us:short{i}", load.app),
                ])
                .int()
                    == 0
            })
        });
        assert!(gone, "short sessions were not swept on the new owner");
    }
}

pub struct Traffic {
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Seen>>,
    workers: Vec<JoinHandle<()>>,
}

impl Traffic {
    pub fn stop(self) -> Seen {
        self.stop.store(true, Ordering::Relaxed);
        for w in self.workers {
            w.join().unwrap();
        }
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}
