//! Each SESS.* command is one atomic step: concurrent writers on one session
//! never lose each other's data (the Node library merges on the client and
//! loses updates).

mod common;

use common::{create, Server};

#[test]
fn eight_clients_setting_500_keys_each_on_one_session_lose_nothing() {
    let server = Server::start();
    let mut c = server.client();
    let token = create(&mut c, "race", "u", &[]);
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let mut client = server.client();
            let token = token.clone();
            std::thread::spawn(move || {
                let commands: Vec<Vec<String>> = (0..500)
                    .map(|k| {
                        vec![
                            "SESS.SET".into(),
                            "race".into(),
                            token.clone(),
                            format!(r#"{{"w{w}k{k}":{k}}}"#),
                        ]
                    })
                    .collect();
                // Small pipelines keep all eight clients interleaving.
                for chunk in commands.chunks(20) {
                    for reply in client.pipeline(chunk) {
                        assert!(reply.field("w").is_some(), "{reply:?}");
                    }
                }
            })
        })
        .collect();
    for w in writers {
        w.join().expect("writer thread");
    }
    let got = c.call(&["SESS.GET", "race", &token]);
    assert_eq!(got.field("w").unwrap().int(), 4001);
    let data: serde_json::Value = serde_json::from_str(&got.field("d").unwrap().text()).unwrap();
    let map = data.as_object().unwrap();
    assert_eq!(map.len(), 4000);
    for w in 0..8 {
        for k in 0..500 {
            assert_eq!(map[&format!("w{w}k{k}")], serde_json::json!(k));
        }
    }
}
