//! The `rtcroom-server` binary itself: flags and env configure it, it serves
//! health and the debug login, and SIGTERM stops it cleanly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::server_base;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[tokio::test]
async fn serves_health_and_debug_login_then_stops_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rtcroom-server"))
        .args(["--listen", "127.0.0.1:0", "--debug", "true"])
        .env("RTCROOM_MAX_MEMBERS", "6")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (base, first) = server_base(&mut child);
    assert!(base.starts_with("http://127.0.0.1:"), "{first}");

    assert_eq!(
        reqwest::get(format!("{base}/healthz"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "ok\n"
    );
    let info: serde_json::Value =
        reqwest::get(format!("{base}/weapp/utils/get_login_info?userID=cli"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(info["code"], 0, "{info}");
    let login = format!(
        "{base}/weapp/rtc_room/login?sdkAppID={}&accountType=0&userID=cli&userSig={}",
        info["sdkAppID"],
        info["userSig"].as_str().unwrap().replace('*', "%2A")
    );
    let v: serde_json::Value = reqwest::Client::new()
        .post(login)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["code"], 0, "{v}");

    // On jemalloc, /metrics carries the allocator's own figures.
    let metrics = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let heap = |what: &str| -> u64 {
        let name = format!("rtcroom_heap_{what}_bytes ");
        let line = metrics.lines().find(|l| l.starts_with(&name));
        line.and_then(|l| l[name.len()..].parse().ok())
            .unwrap_or_else(|| panic!("no {name}in {metrics}"))
    };
    assert!(heap("allocated") > 0 && heap("active") >= heap("allocated"));
    assert!(heap("resident") >= heap("active") && heap("mapped") >= heap("active"));

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let start = Instant::now();
    let exit = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "did not stop within 5 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "{exit:?}");
    let mut log = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut log).unwrap();
    assert!(
        log.contains("shutting down") && log.contains("stopped"),
        "{log}"
    );
    // The built-in malloc_conf (.cargo/config.toml) is in effect: no thread
    // caches, 4 KiB objects in 8-page slabs.
    assert!(log.contains("tcache Some(false)"), "{log}");
    assert!(log.contains("4 KiB slab Some(32768)"), "{log}");
}

#[test]
fn a_bad_config_file_is_a_clear_error() {
    let dir = std::env::temp_dir().join(format!("rtcroom-badcfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.toml");
    std::fs::write(&file, "[limits]\nmax_members = 1\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_rtcroom-server"))
        .args(["--config", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("max_members must be at least 2"), "{err}");
}
