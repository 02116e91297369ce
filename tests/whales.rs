//! A user with tens of thousands of sessions (a service account, a bot that
//! signs in on every request): SOID and SOAPP of such a user go on in steps
//! with the client waiting, the server serving others meanwhile, and the
//! reply is still exact at the moment it is sent: sessions used, killed or
//! created while the listing ran are seen as they are then.

mod common;

use common::{server_now, Client, Options, Server};

const WHALE: usize = 50_000;
const PREFIX: &str = "WHALEWHALEWHALEWHALEWHALEWHALEWHALEWHALEWHALEWHALEWH";

/// The whale's token number `n` (bench/populate.lua's form).
fn token(n: usize) -> String {
    format!("{PREFIX}{n:012}")
}

/// `WHALE` sessions of user000000000000 in app `big`, all active now, plus
/// a few other users' sessions.
fn whale_server(options: Options) -> (Server, Client) {
    let server = Server::with(options);
    let mut c = server.client();
    let now = (server_now(&mut c) as i64).to_string();
    let script = include_str!("../bench/populate.lua");
    for from in (0..WHALE).step_by(10_000) {
        let to = (from + 9_999).to_string();
        let from = from.to_string();
        let done = c.call(&[
            "EVAL", script, "0", "big", PREFIX, &from, &to, "1", &now, "0", "1",
        ]);
        assert_eq!(done.int(), 10_000, "{done:?}");
    }
    for n in 0..5 {
        common::create(&mut c, "big", &format!("small{n}"), &[]);
    }
    (server, c)
}

/// Tokens of a listing reply, in order.
fn tokens(reply: &common::Reply) -> Vec<String> {
    reply
        .array()
        .iter()
        .map(|s| s.field("token").unwrap().text())
        .collect()
}

fn blocked_clients(c: &mut Client) -> i64 {
    let info = c.call(&["INFO", "clients"]).text();
    info.lines()
        .find_map(|l| l.strip_prefix("blocked_clients:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// Sends `listing` on its own connection and, while it waits (blocked),
/// uses, kills and creates sessions of the whale from another; returns the
/// listing's reply and the tokens touched, killed and created.
fn listing_under_changes(
    c: &mut Client,
    server: &Server,
    listing: &[&str],
    seed: usize,
) -> (common::Reply, [String; 3]) {
    let mut lister = server.client();
    lister.send_only(listing);
    assert!(
        common::eventually(10, || blocked_clients(c) == 1),
        "the listing of {WHALE} sessions did not wait in steps"
    );
    let (used, killed) = (token(777 + seed), token(4242 + seed));
    assert!(!c.call(&["SESS.GET", "big", &used]).is_nil());
    assert_eq!(c.call(&["SESS.KILL", "big", &killed]).int(), 1);
    let created = common::create(c, "big", "user000000000000", &[]);
    assert_eq!(
        blocked_clients(c),
        1,
        "the listing ended before the changes: make it bigger"
    );
    let reply = lister.read().unwrap();
    (reply, [used, killed, created])
}

#[test]
fn soid_of_a_whale_waits_in_steps_and_replies_as_of_its_end() {
    let (server, mut c) = whale_server(Options::default());
    // The sessions touched below must be more recent than the rest.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let (reply, [used, killed, created]) = listing_under_changes(
        &mut c,
        &server,
        &["SESS.SOID", "big", "user000000000000"],
        0,
    );
    let listed = tokens(&reply);
    assert_eq!(listed.len(), WHALE, "one killed, one created");
    assert!(!listed.contains(&killed));
    let mut newest = [used.clone(), created.clone()];
    newest.sort();
    assert_eq!(
        listed[..2],
        newest,
        "the sessions used meanwhile come first"
    );
    // The others, all active in one earlier second, come by token.
    assert_eq!(listed[2], token(0));
    assert!(c.call(&["PING"]).is_simple("PONG"));
}

#[test]
fn soid_and_soapp_with_limit_of_a_whale_are_exact_too() {
    let (server, mut c) = whale_server(Options::default());
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let (reply, [used, _, created]) = listing_under_changes(
        &mut c,
        &server,
        &["SESS.SOID", "big", "user000000000000", "LIMIT", "3"],
        0,
    );
    let mut newest = [used.clone(), created.clone()];
    newest.sort();
    assert_eq!(
        tokens(&reply),
        [newest[0].clone(), newest[1].clone(), token(0)]
    );

    let (reply, [used, killed, created]) = listing_under_changes(
        &mut c,
        &server,
        &["SESS.SOAPP", "big", "3600", "LIMIT", "4"],
        1,
    );
    let listed = tokens(&reply);
    assert_eq!(listed.len(), 4);
    assert!(
        listed.contains(&used) && listed.contains(&created),
        "{listed:?}"
    );
    assert!(!listed.contains(&killed));
}

#[test]
fn a_whale_listing_on_a_replica_sees_the_replicated_changes() {
    let (master, mut m) = whale_server(Options::default());
    let replica = common::replica_of(&master, Options::default());
    assert!(common::in_sync(&mut m, &mut replica.client()));
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let mut on_replica = replica.client();
    let mut lister = replica.client();
    lister.send_only(&["SESS.SOID", "big", "user000000000000"]);
    assert!(common::eventually(10, || blocked_clients(&mut on_replica) == 1));
    let (used, killed) = (token(31), token(32));
    assert!(!m.call(&["SESS.GET", "big", &used]).is_nil());
    assert_eq!(m.call(&["SESS.KILL", "big", &killed]).int(), 1);
    let created = common::create(&mut m, "big", "user000000000000", &[]);
    assert!(common::in_sync(&mut m, &mut on_replica));
    assert_eq!(
        blocked_clients(&mut on_replica),
        1,
        "the listing ended before the changes"
    );
    let listed = tokens(&lister.read().unwrap());
    assert_eq!(listed.len(), WHALE);
    assert!(!listed.contains(&killed));
    let mut newest = [used, created];
    newest.sort();
    assert_eq!(listed[..2], newest);
}

#[test]
fn a_whale_listing_replies_in_resp3_and_on_a_replica() {
    let (master, mut c) = whale_server(Options::default());
    let replica = common::replica_of(&master, Options::default());
    let mut m = master.client();
    let mut r3 = replica.client3();
    assert!(common::in_sync(&mut m, &mut replica.client()));
    // Big enough to be written by a reply thread, in the client's protocol.
    let got = r3.call(&["SESS.SOID", "big", "user000000000000"]);
    let listed = got.array();
    assert_eq!(listed.len(), WHALE);
    assert_eq!(listed[0].field("token").unwrap().text(), token(0));
    assert_eq!(listed[1].field("id").unwrap().text(), "user000000000000");
    // Inside MULTI a listing cannot wait: it runs to its end in the command.
    let replies = c.pipeline(&[
        vec!["MULTI"],
        vec!["SESS.SOID", "big", "user000000000000", "LIMIT", "1"],
        vec!["EXEC"],
    ]);
    assert_eq!(tokens(&replies[2].array()[0]), [token(0)]);
}

#[test]
fn soapp_lists_every_session_of_a_user_who_became_active_while_it_ran() {
    let server = Server::start();
    let mut c = server.client();
    let now = (server_now(&mut c) as i64).to_string();
    let script = include_str!("../bench/populate.lua");
    // 1,000 users of 50 sessions, user u last active u seconds ago.
    let done = c.call(&[
        "EVAL", script, "0", "wide", PREFIX, "0", "49999", "1000", &now, "0", "3600",
    ]);
    assert_eq!(done.int(), 50_000);
    let mut lister = server.client();
    lister.send_only(&["SESS.SOAPP", "wide", "3600"]);
    assert!(common::eventually(10, || blocked_clients(&mut c) == 1));
    // The least recently active user, last in the walk's order, becomes
    // the most recent: the walk has passed that point of the index.
    assert!(!c.call(&["SESS.GET", "wide", &token(999)]).is_nil());
    assert_eq!(
        blocked_clients(&mut c),
        1,
        "the listing ended before the change"
    );
    let listed = tokens(&lister.read().unwrap());
    assert_eq!(listed.len(), 50_000);
    assert_eq!(listed[0], token(999));
    let of_user999 = listed.iter().filter(|t| t.ends_with("999")).count();
    assert_eq!(of_user999, 50, "every session of the user");
}

#[test]
fn a_limit_listing_whose_kept_sessions_are_killed_meanwhile_still_fills_its_limit() {
    let (server, mut c) = whale_server(Options::default());
    let mut lister = server.client();
    lister.send_only(&["SESS.SOID", "big", "user000000000000", "LIMIT", "3"]);
    assert!(common::eventually(10, || blocked_clients(&mut c) == 1));
    for n in 0..6 {
        assert_eq!(c.call(&["SESS.KILL", "big", &token(n)]).int(), 1);
    }
    assert_eq!(
        blocked_clients(&mut c),
        1,
        "the listing ended before the kills"
    );
    assert_eq!(
        tokens(&lister.read().unwrap()),
        [token(6), token(7), token(8)]
    );
}

#[test]
fn a_listing_sees_a_session_deleted_by_hand_and_a_flushed_database() {
    let (server, mut c) = whale_server(Options::default());
    // LIMIT 600 keeps up to 1,200 sessions, all read again at the end.
    let mut lister = server.client();
    lister.send_only(&["SESS.SOID", "big", "user000000000000", "LIMIT", "600"]);
    assert!(common::eventually(10, || blocked_clients(&mut c) == 1));
    c.call(&["DEL", &format!("rs:{{big}}:{}", token(0))]);
    let listed = tokens(&lister.read().unwrap());
    assert_eq!(listed.len(), 600);
    assert_eq!(
        listed[0],
        token(1),
        "the session deleted by hand is left out"
    );

    lister.send_only(&["SESS.SOID", "big", "user000000000000"]);
    assert!(common::eventually(10, || blocked_clients(&mut c) == 1));
    c.call(&["FLUSHALL"]);
    assert!(tokens(&lister.read().unwrap()).is_empty());
}

#[test]
fn a_listing_whose_client_leaves_stops_and_frees_its_memory() {
    let (server, mut c) = whale_server(Options::default());
    for _ in 0..4 {
        let mut lister = server.client();
        lister.send_only(&["SESS.SOID", "big", "user000000000000"]);
        assert!(common::eventually(10, || blocked_clients(&mut c) == 1));
        drop(lister);
        assert!(common::eventually(10, || blocked_clients(&mut c) == 0));
    }
    assert!(c.call(&["PING"]).is_simple("PONG"));
    let answered = c.call(&["SESS.SOID", "big", "user000000000000", "LIMIT", "1"]);
    assert_eq!(tokens(&answered), [token(0)]);
}
