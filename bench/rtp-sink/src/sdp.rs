//! Answering a Janus subscriber offer: every audio/video m-line received
//! (`recvonly`) with the offer's first payload type, data channels refused,
//! one BUNDLE transport: our ICE credentials, certificate fingerprint,
//! `setup:active` (we are the DTLS client) and one host candidate.

use std::collections::HashMap;
use std::fmt::Write;
use std::net::SocketAddr;

/// What the answer and the receiver need of an offer.
pub struct Offer {
    /// Janus' ICE ufrag and password.
    pub ufrag: String,
    /// Janus' ICE password.
    pub pwd: String,
    /// Janus' host candidates.
    pub candidates: Vec<SocketAddr>,
    /// Payload type → "audio" / "video".
    pub kinds: HashMap<u8, String>,
    sections: Vec<Section>,
}

struct Section {
    kind: String,
    mid: String,
    pt: Option<u8>,
    rtpmap: Option<String>,
    fmtp: Option<String>,
}

/// Parses the parts of `sdp` the answer needs.
pub fn parse(sdp: &str) -> Result<Offer, String> {
    let mut offer = Offer {
        ufrag: String::new(),
        pwd: String::new(),
        candidates: Vec::new(),
        kinds: HashMap::new(),
        sections: Vec::new(),
    };
    for line in sdp.lines().map(str::trim) {
        if let Some(m) = line.strip_prefix("m=") {
            let f: Vec<&str> = m.split_whitespace().collect();
            let pt = f.get(3).and_then(|p| p.parse().ok());
            offer.sections.push(Section {
                kind: f.first().copied().unwrap_or("").to_owned(),
                mid: String::new(),
                pt,
                rtpmap: None,
                fmtp: None,
            });
            continue;
        }
        let Some(a) = line.strip_prefix("a=") else {
            continue;
        };
        if let Some(v) = a.strip_prefix("ice-ufrag:") {
            offer.ufrag = v.to_owned();
        } else if let Some(v) = a.strip_prefix("ice-pwd:") {
            offer.pwd = v.to_owned();
        } else if let Some(v) = a.strip_prefix("candidate:") {
            // foundation component transport priority address port typ host …
            let f: Vec<&str> = v.split_whitespace().collect();
            if f.len() > 7 && f[2].eq_ignore_ascii_case("udp") && f[7] == "host" {
                if let Ok(addr) = format!("{}:{}", f[4], f[5]).parse() {
                    if !offer.candidates.contains(&addr) {
                        offer.candidates.push(addr);
                    }
                }
            }
        } else if let Some(s) = offer.sections.last_mut() {
            if let Some(v) = a.strip_prefix("mid:") {
                s.mid = v.to_owned();
            } else if let (Some(pt), Some(v)) = (s.pt, a.strip_prefix("rtpmap:")) {
                if v.split_whitespace().next() == Some(&pt.to_string()) {
                    s.rtpmap = Some(v.to_owned());
                }
            } else if let (Some(pt), Some(v)) = (s.pt, a.strip_prefix("fmtp:")) {
                if v.split_whitespace().next() == Some(&pt.to_string()) {
                    s.fmtp = Some(v.to_owned());
                }
            }
        }
    }
    if offer.ufrag.is_empty() || offer.pwd.is_empty() {
        return Err("offer has no ICE credentials".into());
    }
    for s in &offer.sections {
        if let (Some(pt), "audio" | "video") = (s.pt, s.kind.as_str()) {
            offer.kinds.insert(pt, s.kind.clone());
        }
    }
    Ok(offer)
}

/// Our side of one transport.
pub struct Local<'a> {
    /// Our ICE ufrag.
    pub ufrag: &'a str,
    /// Our ICE password.
    pub pwd: &'a str,
    /// SHA-256 fingerprint of our certificate, `AB:CD:…`.
    pub fingerprint: &'a str,
    /// The socket Janus reaches us on.
    pub addr: SocketAddr,
}

/// The answer to `offer`.
pub fn answer(offer: &Offer, local: &Local) -> String {
    let mut out = String::new();
    let accepted: Vec<&Section> = offer
        .sections
        .iter()
        .filter(|s| matches!(s.kind.as_str(), "audio" | "video") && s.pt.is_some())
        .collect();
    let mids: Vec<&str> = accepted.iter().map(|s| s.mid.as_str()).collect();
    // Writing into a String cannot fail.
    let _ = write!(
        out,
        "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE {}\r\na=msid-semantic: WMS\r\n",
        mids.join(" ")
    );
    for s in &offer.sections {
        let Some(pt) =
            s.pt.filter(|_| matches!(s.kind.as_str(), "audio" | "video"))
        else {
            // Refused: port 0 and the offer's format list.
            let _ = write!(
                out,
                "m={} 0 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=mid:{}\r\n",
                s.kind, s.mid
            );
            continue;
        };
        let _ = write!(
            out,
            "m={kind} 9 UDP/TLS/RTP/SAVPF {pt}\r\nc=IN IP4 {ip}\r\na=mid:{mid}\r\na=recvonly\r\na=rtcp-mux\r\n\
             a=ice-ufrag:{ufrag}\r\na=ice-pwd:{pwd}\r\na=fingerprint:sha-256 {fp}\r\na=setup:active\r\n",
            kind = s.kind,
            ip = local.addr.ip(),
            mid = s.mid,
            ufrag = local.ufrag,
            pwd = local.pwd,
            fp = local.fingerprint,
        );
        if let Some(r) = &s.rtpmap {
            let _ = write!(out, "a=rtpmap:{r}\r\n");
        }
        if let Some(f) = &s.fmtp {
            let _ = write!(out, "a=fmtp:{f}\r\n");
        }
        let _ = write!(
            out,
            "a=candidate:1 1 udp 2130706431 {} {} typ host\r\na=end-of-candidates\r\n",
            local.addr.ip(),
            local.addr.port()
        );
    }
    out
}
