//! The DTLS-SRTP handshake as the client (`setup:active`), over datagrams
//! handed in and out by the caller (one openssl SSL over an in-memory
//! channel). Only the handshake matters: once it is done Janus sends SRTP,
//! which the sink counts without the keys.

use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::error::ErrorStack;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::PKey;
use openssl::ssl::{ErrorCode, Ssl, SslContext, SslMethod, SslStream, SslVerifyMode};
use openssl::x509::{X509NameBuilder, X509};
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

/// A handshake with no answer for this long starts over (loopback loses
/// nothing, but Janus drops a ClientHello that comes before its ICE is up).
const RESTART_AFTER: Duration = Duration::from_millis(1000);

/// The certificate and context every transport shares.
pub struct Identity {
    ctx: SslContext,
    /// SHA-256 fingerprint of the certificate, `AB:CD:…` as SDP wants it.
    pub fingerprint: String,
}

impl Identity {
    /// A fresh self-signed P-256 certificate and a DTLS client context offering SRTP.
    pub fn new() -> Result<Self, ErrorStack> {
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
        let key = PKey::from_ec_key(EcKey::generate(&group)?)?;
        let mut name = X509NameBuilder::new()?;
        name.append_entry_by_text("CN", "rtp-sink")?;
        let name = name.build();
        let mut cert = X509::builder()?;
        cert.set_version(2)?;
        let mut serial = BigNum::new()?;
        serial.rand(64, MsbOption::MAYBE_ZERO, false)?;
        let serial = serial.to_asn1_integer()?;
        cert.set_serial_number(&serial)?;
        cert.set_subject_name(&name)?;
        cert.set_issuer_name(&name)?;
        cert.set_pubkey(&key)?;
        let (from, until) = (Asn1Time::days_from_now(0)?, Asn1Time::days_from_now(30)?);
        cert.set_not_before(&from)?;
        cert.set_not_after(&until)?;
        cert.sign(&key, MessageDigest::sha256())?;
        let cert = cert.build();
        let fingerprint = cert
            .digest(MessageDigest::sha256())?
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":");
        let mut ctx = SslContext::builder(SslMethod::dtls())?;
        ctx.set_certificate(&cert)?;
        ctx.set_private_key(&key)?;
        // Janus' certificate is checked against nothing: loopback, benchmark only.
        ctx.set_verify(SslVerifyMode::NONE);
        ctx.set_tlsext_use_srtp("SRTP_AES128_CM_SHA1_80:SRTP_AES128_CM_SHA1_32")?;
        Ok(Self {
            ctx: ctx.build(),
            fingerprint,
        })
    }
}

/// Datagrams in and out of the SSL.
#[derive(Default)]
struct Channel {
    inbox: VecDeque<Vec<u8>>,
    outbox: Vec<Vec<u8>>,
}

impl Read for Channel {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(d) = self.inbox.pop_front() else {
            return Err(io::ErrorKind::WouldBlock.into());
        };
        let n = d.len().min(buf.len());
        buf[..n].copy_from_slice(&d[..n]);
        Ok(n)
    }
}

impl Write for Channel {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.outbox.push(b.to_vec());
        Ok(b.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// One client handshake.
pub struct Handshake {
    stream: SslStream<Channel>,
    started: Instant,
    /// Set once the handshake completed.
    pub done: bool,
    /// Set when openssl gave up.
    pub failed: Option<String>,
}

impl Handshake {
    /// Starts a handshake (the ClientHello is in [`Self::output`]).
    pub fn start(id: &Identity) -> Result<Self, ErrorStack> {
        let mut ssl = Ssl::new(&id.ctx)?;
        ssl.set_connect_state();
        ssl.set_mtu(1200)?;
        let mut h = Self {
            stream: SslStream::new(ssl, Channel::default())?,
            started: Instant::now(),
            done: false,
            failed: None,
        };
        h.drive();
        Ok(h)
    }

    /// Feeds one DTLS datagram from Janus.
    pub fn input(&mut self, datagram: &[u8]) {
        if self.done {
            return; // alerts or retransmissions after the end: nothing to do
        }
        self.stream.get_mut().inbox.push_back(datagram.to_vec());
        self.drive();
    }

    fn drive(&mut self) {
        match self.stream.do_handshake() {
            Ok(()) => self.done = true,
            Err(e) if e.code() == ErrorCode::WANT_READ || e.code() == ErrorCode::WANT_WRITE => {}
            Err(e) => self.failed = Some(e.to_string()),
        }
    }

    /// Whether it should start over (no progress for a while).
    pub fn stalled(&self) -> bool {
        !self.done && (self.failed.is_some() || self.started.elapsed() > RESTART_AFTER)
    }

    /// The datagrams to send to Janus.
    pub fn output(&mut self) -> Vec<Vec<u8>> {
        std::mem::take(&mut self.stream.get_mut().outbox)
    }
}
