//! Token tiers over real TCP: `advkit run --tcp ADDR --token TIER=FILE`,
//! each tier allowed what it may call and refused the rest, by name.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use advkit_ipc::client::Client;
use serde_json::{Value, json};

use crate::util::Runtime;

/// Writes an owner-only token file for `tier` and returns (path, token).
fn token_file(dir: &Path, tier: &str) -> (String, String) {
    let token = format!("{tier}-token-{:016x}", tier.len() * 7919);
    let path = dir.join(format!("{tier}.token"));
    std::fs::write(&path, format!("{token}\n")).expect("write token");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    (path.display().to_string(), token)
}

fn tcp_addr(rt: &Runtime, name: &str) -> std::net::SocketAddr {
    let mut local = Client::connect_unix(&rt.dir().join(format!("{name}.sock"))).expect("connect");
    let hello = local.call("hello", json!({})).expect("hello").result;
    assert_eq!(hello["tier"], "admin", "the Unix socket's owner is admin");
    hello["tcp"]
        .as_str()
        .expect("tcp")
        .parse()
        .expect("address")
}

/// Calls `method` and says whether the tier allowed it: a refusal must be
/// -32012 naming the tier needed and held; anything else counts as
/// allowed (the call got past the gate, whatever the game answered).
fn allowed(c: &mut Client, method: &str, params: Value, holds: &str) -> bool {
    match c.call(method, params) {
        Ok(_) => true,
        Err(e) => {
            let text = e.to_string();
            if text.contains("-32012") {
                assert!(
                    text.contains(&format!("this connection's is {holds}"))
                        && text.contains("needs a token of tier"),
                    "{method}: {text}"
                );
                false
            } else {
                true
            }
        }
    }
}

#[test]
fn each_tier_is_allowed_what_it_may_and_refused_the_rest_over_tcp() {
    let rt = Runtime::new();
    let keys = tempfile::tempdir().expect("tempdir");
    let tiers = ["observe", "tune", "drive", "admin"];
    let files: Vec<_> = tiers.iter().map(|t| token_file(keys.path(), t)).collect();
    let mut args = vec![
        "--tcp".to_owned(),
        "127.0.0.1:0".to_owned(),
        "--paused".to_owned(),
    ];
    for (tier, (path, _)) in tiers.iter().zip(&files) {
        args.push("--token".into());
        args.push(format!("{tier}={path}"));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let _engine = rt.start("tiers", &args);
    let addr = tcp_addr(&rt, "tiers");
    assert!(
        !rt.dir().join("tiers.token").exists(),
        "with --token, no admin token file is made"
    );

    // (method, params, the least tier that may call it)
    let calls: Vec<(&str, Value, usize)> = vec![
        ("engine.stats", json!({}), 0),
        ("params.get", json!({}), 0),
        ("frame.snapshot", json!({}), 0),
        ("events.subscribe", json!({"topics": ["log"]}), 0),
        ("world.entities", json!({}), 0),
        ("params.set", json!({"values": {"walk_speed": 5}}), 1),
        ("engine.step", json!({"count": 1}), 2),
        ("engine.pause", json!({}), 2),
        (
            "engine.input",
            json!({"button": "left", "action": "tap"}),
            2,
        ),
        ("engine.reboot", json!({"keep_progress": true}), 3),
    ];
    for (held, (tier, (_, token))) in tiers.iter().zip(&files).enumerate() {
        let mut c = Client::connect_tcp(addr, Some(token)).expect("connect + auth");
        let hello = c.call("hello", json!({})).expect("hello").result;
        assert_eq!(hello["tier"], *tier);
        for (method, params, needs) in &calls {
            assert_eq!(
                allowed(&mut c, method, params.clone(), tier),
                held >= *needs,
                "{tier} calling {method}"
            );
        }
    }
    // rpc.discover says every method's tier.
    let mut c = Client::connect_tcp(addr, Some(&files[0].1)).expect("connect");
    let methods = c.call("rpc.discover", json!({})).expect("discover").result["methods"].clone();
    let tier_of = |name: &str| {
        methods
            .as_array()
            .expect("methods")
            .iter()
            .find(|m| m["name"] == name)
            .map(|m| m["tier"].clone())
    };
    assert_eq!(tier_of("engine.pause"), Some(json!("drive")));
    assert_eq!(tier_of("params.set"), Some(json!("tune")));
    assert_eq!(tier_of("engine.shutdown"), Some(json!("admin")));
    assert_eq!(tier_of("hello"), Some(json!("observe")));
}

#[test]
fn an_observer_cannot_pause_the_game_and_a_wrong_token_changes_nothing() {
    let rt = Runtime::new();
    let keys = tempfile::tempdir().expect("tempdir");
    let (observe, token) = token_file(keys.path(), "observe");
    let _engine = rt.start(
        "watched",
        &[
            "--tcp",
            "127.0.0.1:0",
            "--token",
            &format!("observe={observe}"),
        ],
    );
    let addr = tcp_addr(&rt, "watched");
    let mut viewer = Client::connect_tcp(addr, Some(&token)).expect("connect");
    let err = viewer.call("engine.pause", json!({})).expect_err("refused");
    let text = err.to_string();
    assert!(
        text.contains("engine.pause needs a token of tier drive")
            && text.contains("this connection's is observe"),
        "{text}"
    );
    let mut owner = Client::connect_unix(&rt.dir().join("watched.sock")).expect("owner");
    let stats = owner.call("engine.stats", json!({})).expect("stats").result;
    assert_eq!(stats["paused"], false, "the game still runs");
    // A wrong token is refused and authenticates nothing.
    let mut guess = Client::connect_tcp(addr, None).expect("connect");
    let err = guess
        .call("auth", json!({"token": "observe-token-nope"}))
        .expect_err("wrong token");
    assert!(err.to_string().contains("wrong token"), "{err}");
    let err = guess
        .call("engine.stats", json!({}))
        .expect_err("still unauthenticated");
    assert!(err.to_string().contains("-32000"), "{err}");
    // The owner keeps admin on the Unix socket.
    owner
        .call("engine.pause", json!({}))
        .expect("the owner pauses");
}

#[test]
fn a_token_file_others_can_read_or_a_bad_tier_is_refused_at_start() {
    let rt = Runtime::new();
    let keys = tempfile::tempdir().expect("tempdir");
    let (path, _) = token_file(keys.path(), "admin");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let err = rt
        .advkit(&[
            "run",
            "--name",
            "leaky",
            "--tcp",
            "127.0.0.1:0",
            "--token",
            &format!("admin={path}"),
        ])
        .fails_with(1);
    assert!(
        err.contains("others can read it") && err.contains("chmod 600"),
        "{err}"
    );
    let err = rt
        .advkit(&[
            "run",
            "--name",
            "leaky",
            "--tcp",
            "127.0.0.1:0",
            "--token",
            &format!("boss={path}"),
        ])
        .fails_with(2);
    assert!(
        err.contains("unknown tier \"boss\"") && err.contains("observe, tune, drive, admin"),
        "{err}"
    );
}
