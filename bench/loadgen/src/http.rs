//! A minimal HTTP/1.1 keep-alive client: `POST` a JSON body, read a
//! `Content-Length` answer. Enough for RoomService's API and cheap enough that
//! the load generator does not eat the CPU the server is being measured on.

use crate::net::Sources;
use anyhow::{bail, Context};
use serde_json::Value;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A command answered with a non-zero `code` (the scenarios count them by code).
#[derive(Debug)]
pub struct ApiCode {
    /// The answer's `code`.
    pub code: i64,
    /// Path and answer, for the log.
    pub answer: String,
}

impl std::fmt::Display for ApiCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.answer)
    }
}

impl std::error::Error for ApiCode {}

/// One keep-alive connection.
pub struct Http {
    stream: TcpStream,
    buf: Vec<u8>,
    host: String,
}

impl Http {
    /// Opens a connection from the next source address.
    pub async fn connect(sources: &Sources, addr: SocketAddr) -> anyhow::Result<Self> {
        let stream = sources.connect(addr).await.context("connecting (HTTP)")?;
        Ok(Self {
            stream,
            buf: Vec::with_capacity(4096),
            host: addr.to_string(),
        })
    }

    /// `POST path` with `body`; the answer's JSON when its `code` is 0.
    pub async fn post(&mut self, path: &str, body: &str) -> anyhow::Result<Value> {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            self.host,
            body.len()
        );
        let mut req = Vec::with_capacity(head.len() + body.len());
        req.extend_from_slice(head.as_bytes());
        req.extend_from_slice(body.as_bytes());
        self.stream.write_all(&req).await?;
        let body = self.read_response().await?;
        let v: Value = serde_json::from_slice(&body).context("answer is not JSON")?;
        if v["code"] != 0 {
            return Err(ApiCode {
                code: v["code"].as_i64().unwrap_or(-1),
                answer: format!("{path}: {v}"),
            }
            .into());
        }
        Ok(v)
    }

    /// `GET path`: the answer's body as text (`/metrics`).
    pub async fn get_text(&mut self, path: &str) -> anyhow::Result<String> {
        let head = format!("GET {path} HTTP/1.1\r\nHost: {}\r\n\r\n", self.host);
        self.stream.write_all(head.as_bytes()).await?;
        let body = self.read_response().await?;
        String::from_utf8(body).context("answer is not UTF-8")
    }

    async fn read_response(&mut self) -> anyhow::Result<Vec<u8>> {
        let head_end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i + 4;
            }
            if self.stream.read_buf(&mut self.buf).await? == 0 {
                bail!("connection closed by the server");
            }
        };
        let head = std::str::from_utf8(&self.buf[..head_end]).context("header is not UTF-8")?;
        if !head.starts_with("HTTP/1.1 200") {
            bail!("HTTP status: {}", head.lines().next().unwrap_or(""));
        }
        let mut len = None;
        for line in head.lines().skip(1) {
            if let Some((k, v)) = line.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    len = v.trim().parse::<usize>().ok();
                } else if k.eq_ignore_ascii_case("transfer-encoding") {
                    bail!("chunked answers are not supported");
                }
            }
        }
        let len = len.context("answer without Content-Length")?;
        while self.buf.len() < head_end + len {
            if self.stream.read_buf(&mut self.buf).await? == 0 {
                bail!("connection closed mid-answer");
            }
        }
        let body = self.buf[head_end..head_end + len].to_vec();
        self.buf.drain(..head_end + len);
        Ok(body)
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Percent-encodes a query value.
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_query_values() {
        assert_eq!(urlencode("a-b_c.d~e"), "a-b_c.d~e");
        assert_eq!(urlencode("a b/c*d+é"), "a%20b%2Fc%2Ad%2B%C3%A9");
    }

    #[test]
    fn posts_and_reads_content_length_answers_on_one_connection() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let addr = listener.local_addr().expect("addr");
            tokio::spawn(async move {
                let (mut s, _) = listener.accept().await.expect("accept");
                let mut buf = vec![0u8; 4096];
                for answer in [r#"{"code":0,"n":1}"#, r#"{"code":7,"message":"no"}"#] {
                    let _ = s.read(&mut buf).await;
                    let head = format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n", answer.len());
                    s.write_all(format!("{head}{answer}").as_bytes()).await.expect("write");
                }
            });
            let mut http = Http::connect(&Sources::new(1), addr).await.expect("connect");
            assert_eq!(http.post("/x", "{}").await.expect("first")["n"], 1);
            assert!(http.post("/y", "{}").await.is_err(), "code 7 is an error");
        });
    }
}
