//! `make soak`: a long storm of random SESS.* calls, every command and
//! option (one million by default, `SOAK_CALLS` to change), from several
//! RESP2 and RESP3 connections at once, while sessions expire, two replicas
//! follow (one without the module) and the master runs `DEBUG RELOAD` twice.
//! Afterwards the server is up, the replicas' digests equal the master's, no
//! reply was an error, and every index entry points to a live session of its
//! user. Not part of `make test`: it takes minutes.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{in_sync, keys, replica_of, server_now, Client, Options, Reply, Server};

const APPS: [&str; 4] = ["shop", "blog", "admin", "api-v2"];
const USERS: usize = 300;
const BATCH: usize = 100;
const CONNECTIONS: usize = 6;

/// A small deterministic generator, so a failing storm can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// One random command, valid by construction. GET, SET and KILL mostly
/// name a token this connection created (live, expired or killed by now),
/// sometimes one that never existed.
fn random_command(rng: &mut Rng, tokens: &[(usize, String)]) -> Vec<String> {
    let app = APPS[rng.below(APPS.len())].to_string();
    let user = format!("user:{}", rng.below(USERS));
    let (token_app, token) = match tokens.get(rng.below(tokens.len().max(1))) {
        Some((a, t)) if rng.below(10) > 0 => (APPS[*a].to_string(), t.clone()),
        _ => (app.clone(), "x".repeat(64)),
    };
    match rng.below(100) {
        0..=24 => {
            let mut c = vec!["SESS.CREATE".into(), app, user, "10.0.0.1".into()];
            c.extend(["TTL".into(), (10 + rng.below(20)).to_string()]);
            if rng.below(3) == 0 {
                c.extend([
                    "DATA".into(),
                    format!(r#"{{"n":{},"t":"x"}}"#, rng.below(1000)),
                ]);
            }
            if rng.below(5) == 0 {
                c.push("NORESAVE".into());
            }
            if rng.below(6) == 0 {
                c.extend(["MAXAGE".into(), (10 + rng.below(30)).to_string()]);
            }
            if rng.below(6) == 0 {
                c.extend(["MAXSESSIONS".into(), (1 + rng.below(4)).to_string()]);
            }
            c
        }
        25..=29 => vec!["SESS.PEEK".into(), token_app, token],
        30..=33 => vec!["SESS.ROTATE".into(), token_app, token],
        34..=59 => vec!["SESS.GET".into(), token_app, token],
        60..=79 => {
            let json = format!(r#"{{"k{}":{},"gone":null}}"#, rng.below(5), rng.below(100));
            vec!["SESS.SET".into(), token_app, token, json]
        }
        80..=87 => vec!["SESS.KILL".into(), token_app, token],
        88 => vec!["SESS.KILLSOID".into(), app, user],
        89 => vec![
            "SESS.KILLSOID".into(),
            token_app,
            user,
            "EXCEPT".into(),
            token,
        ],
        90..=93 => vec!["SESS.SOID".into(), app, user],
        94..=95 => vec!["SESS.SOAPP".into(), app, "30".into()],
        96..=98 => vec!["SESS.ACTIVITY".into(), app, "60".into()],
        _ => vec!["SESS.KILLALL".into(), APPS[3].into()],
    }
}

fn storm(port: u16, seed: u64, resp3: bool, calls: usize, done: Arc<AtomicUsize>) -> usize {
    let mut c = Client::connect(port).expect("connect");
    if resp3 {
        c.hello3();
    }
    let mut rng = Rng(seed);
    let mut tokens: Vec<(usize, String)> = Vec::new();
    let mut errors = 0;
    let mut sent = 0;
    while sent < calls {
        let batch: Vec<Vec<String>> = (0..BATCH.min(calls - sent))
            .map(|_| random_command(&mut rng, &tokens))
            .collect();
        let replies = c.pipeline(&batch);
        for (command, reply) in batch.iter().zip(&replies) {
            match reply {
                Reply::Error(e) if !e.starts_with("LOADING") => {
                    errors += 1;
                    eprintln!("{command:?} -> {e}");
                }
                Reply::Bulk(token)
                    if command[0] == "SESS.CREATE" || command[0] == "SESS.ROTATE" =>
                {
                    let app = APPS.iter().position(|a| *a == command[1]).unwrap_or(0);
                    tokens.push((app, String::from_utf8_lossy(token).into_owned()));
                    if tokens.len() > 500 {
                        tokens.remove(0);
                    }
                }
                _ => {}
            }
        }
        sent += batch.len();
        done.fetch_add(batch.len(), Ordering::Relaxed);
    }
    errors
}

/// Every entry of every user index names a session hash of that user which
/// is live now (or expired within the sweeper's 2 s).
fn check_indexes(c: &mut Client) -> usize {
    let now = server_now(c) as i64;
    let mut entries = 0;
    for key in keys(c) {
        let Some((app_part, id)) = key.split_once(":us:") else {
            continue;
        };
        for token in c.call(&["ZRANGE", &key, "0", "-1"]).array() {
            let token = token.text();
            let session = format!("{app_part}:{token}");
            let fields = c.call(&["HMGET", &session, "id", "la", "ttl"]).array();
            assert_eq!(fields[0].text(), id, "{key} lists {session}");
            let la: i64 = fields[1].text().parse().unwrap();
            let ttl: i64 = fields[2].text().parse().unwrap();
            assert!(now - la <= ttl + 2, "{session} expired long ago");
            entries += 1;
        }
    }
    entries
}

#[test]
#[ignore = "minutes long: run by make soak"]
fn a_million_random_calls_leave_a_consistent_server_and_identical_replicas() {
    let calls: usize = std::env::var("SOAK_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let master = Server::start();
    let with_module = replica_of(&master, Options::default());
    let without_module = replica_of(&master, Options::default().without_module());
    let started = Instant::now();
    let done = Arc::new(AtomicUsize::new(0));

    let workers: Vec<_> = (0..CONNECTIONS)
        .map(|i| {
            let (port, done) = (master.port, done.clone());
            let share = calls / CONNECTIONS + usize::from(i < calls % CONNECTIONS);
            std::thread::spawn(move || storm(port, 0x9e37_79b9 + i as u64, i % 2 == 1, share, done))
        })
        .collect();
    let mut control = master.client();
    let mut reloads = 0;
    while done.load(Ordering::Relaxed) < calls {
        let progress = done.load(Ordering::Relaxed) * 3 / calls.max(1);
        if progress > reloads && reloads < 2 {
            assert!(control.call(&["DEBUG", "RELOAD"]).is_simple("OK"));
            reloads += 1;
            eprintln!(
                "soak: DEBUG RELOAD at {} calls",
                done.load(Ordering::Relaxed)
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let errors: usize = workers.into_iter().map(|w| w.join().unwrap()).sum();
    let elapsed = started.elapsed().as_secs_f64();

    assert!(control.call(&["PING"]).is_simple("PONG"));
    assert_eq!(errors, 0, "error replies");
    // Let the sweeper finish what expired during the storm.
    std::thread::sleep(Duration::from_secs(3));
    let entries = check_indexes(&mut control);
    // Sessions keep expiring, so the three digests must be of one moment:
    // paused writes hold the sweeper too.
    assert!(control
        .call(&["CLIENT", "PAUSE", "30000", "WRITE"])
        .is_simple("OK"));
    let mut digests = Vec::new();
    for replica in [&with_module, &without_module] {
        let mut r = replica.client();
        assert!(in_sync(&mut control, &mut r));
        digests.push(r.call(&["DEBUG", "DIGEST"]));
    }
    let master_digest = control.call(&["DEBUG", "DIGEST"]);
    assert!(control.call(&["CLIENT", "UNPAUSE"]).is_simple("OK"));
    assert!(
        digests.iter().all(|d| *d == master_digest),
        "{digests:?} vs {master_digest:?}"
    );
    eprintln!(
        "soak: {calls} calls in {elapsed:.1} s ({:.0} calls/s) over {CONNECTIONS} connections, {reloads} DEBUG RELOADs, 0 errors; {} keys and {entries} index entries left, all pointing to live sessions; replicas identical (digest {})",
        calls as f64 / elapsed,
        control.call(&["DBSIZE"]).int(),
        master_digest.text()
    );
}
