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
    for code in rtcroom_protocol::ErrorCode::ALL {
        let row = format!("| {} |", code.code());
        assert!(
            doc.contains(&row),
            "docs/PROTOCOL.md lacks a row for code {} ({:?})",
            code.code(),
            code
        );
    }
    for code in rtcroom_protocol::ClientError::ALL {
        let row = format!("| {} |", code.code());
        assert!(
            doc.contains(&row),
            "docs/PROTOCOL.md lacks a row for client code {} ({:?})",
            code.code(),
            code
        );
    }
}
