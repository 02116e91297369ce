//! Configuration: module arguments and `sess.*` settings in redis.conf are
//! applied, shown by CONFIG GET, changed by CONFIG SET where allowed, and a
//! bad value refuses the load with a clear line in the Redis log.

mod common;

use common::{create, Options, Server};

fn refused(options: Options) -> String {
    match Server::try_with(options) {
        Ok(_) => panic!("the server started with a bad setting"),
        Err(log) => log,
    }
}

#[test]
fn bad_module_arguments_refuse_the_load_and_say_why() {
    let cases = [
        (
            Options::default().module_arg("default-ttl", "5"),
            "invalid value for default-ttl: expected an integer from 10 to 31536000, got \"5\"",
        ),
        (
            Options::default().module_arg("max-data-bytes", "lots"),
            "invalid value for max-data-bytes",
        ),
        (
            Options::default().module_arg("prefix", "a{b}"),
            "invalid value for prefix",
        ),
        (
            Options::default().module_arg("sweep-interval", "0"),
            "invalid value for sweep-interval",
        ),
        (
            Options::default().module_arg("colour", "blue"),
            "unknown module argument \"colour\"",
        ),
    ];
    for (options, expected) in cases {
        let log = refused(options);
        assert!(log.contains(expected), "expected {expected:?} in:\n{log}");
        assert!(log.contains("refusing to load"), "{log}");
    }
    let mut odd = Options::default();
    odd.module_args.push("default-ttl".into());
    assert!(refused(odd).contains("module arguments must be name/value pairs"));
}

#[test]
fn settings_in_redis_conf_are_applied_and_checked() {
    let server = Server::with(
        Options::default()
            .config("sess.default-ttl", "1800")
            .config("sess.activity-horizon", "86400")
            .config("sess.prefix", "app_sessions"),
    );
    let mut c = server.client();
    let token = create(&mut c, "shop", "u", &[]);
    assert_eq!(
        c.call(&["HGET", &format!("app_sessions:{{shop}}:{token}"), "ttl"])
            .text(),
        "1800"
    );
    let all = c.call(&["CONFIG", "GET", "sess.*"]).pairs();
    let get = |name: &str| {
        all.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.text())
            .unwrap()
    };
    assert_eq!(get("sess.activity-horizon"), "86400");
    assert_eq!(get("sess.max-data-bytes"), "65536");
    assert_eq!(get("sess.sweep-interval"), "100");
    assert_eq!(get("sess.sweep-batch"), "1000");

    let log = refused(Options::default().config("sess.sweep-batch", "1"));
    assert!(log.contains("sess.sweep-batch"), "{log}");
}

#[test]
fn config_set_changes_limits_at_run_time() {
    let server = Server::start();
    let mut c = server.client();
    let token = create(&mut c, "shop", "u", &[]);
    assert!(c
        .call(&["CONFIG", "SET", "sess.max-data-bytes", "64"])
        .is_simple("OK"));
    let big = format!(r#"{{"k":"{}"}}"#, "x".repeat(60));
    let refused = c.call(&["SESS.SET", "shop", &token, &big]);
    assert_eq!(
        refused.err(),
        "ERR invalid json: the session data would exceed max-data-bytes (64 bytes)"
    );
    assert!(c
        .call(&[
            "CONFIG",
            "SET",
            "sess.sweep-interval",
            "50",
            "sess.sweep-batch",
            "200"
        ])
        .is_simple("OK"));
    assert_eq!(
        c.call(&["CONFIG", "GET", "sess.sweep-batch"]).array()[1].text(),
        "200"
    );
}

#[test]
fn a_renamed_or_disabled_command_gives_an_error_naming_it_never_a_wrong_answer() {
    for renamed_to in ["", "ZCOUNT_HIDDEN"] {
        let server =
            Server::with(Options::default().setting(&["rename-command", "ZCOUNT", renamed_to]));
        let mut c = server.client();
        create(&mut c, "shop", "u", &[]);
        let reply = c.call(&["SESS.ACTIVITY", "shop", "60"]);
        assert!(
            reply
                .err()
                .starts_with("ERR SESS.ACTIVITY needs the ZCOUNT command"),
            "{reply:?}"
        );
        // Everything else works through the native key API.
        assert_eq!(c.call(&["SESS.SOID", "shop", "u"]).array().len(), 1);
        assert_eq!(c.call(&["SESS.SOAPP", "shop", "60"]).array().len(), 1);
    }
}
