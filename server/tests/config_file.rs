//! The shipped example configuration parses and validates.
#![allow(clippy::unwrap_used)]

#[test]
fn example_config_is_valid() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../rtcroom.example.toml"
    ))
    .unwrap();
    let cfg = rtcroom_server::config::Config::from_toml(&text).unwrap();
    cfg.validate().unwrap();
    assert_eq!(cfg.apps.len(), 1);
    assert!(cfg.ice_servers.is_empty());
}

#[test]
fn every_error_code_is_documented() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/PROTOCOL.md"))
        .unwrap();
    let server = rtcroom_protocol::ErrorCode::ALL
        .iter()
        .map(|c| (c.code(), format!("{c:?}")));
    let client = rtcroom_protocol::ClientError::ALL
        .iter()
        .map(|c| (c.code(), format!("client {c:?}")));
    for (code, name) in server.chain(client) {
        assert!(
            doc.contains(&format!("| {code} |")),
            "docs/PROTOCOL.md lacks a row for code {code} ({name})"
        );
    }
}
