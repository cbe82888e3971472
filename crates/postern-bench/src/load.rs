//! A load client: distinct messages over parallel SMTP sessions, each transaction pipelined
//! (MAIL, RCPT, DATA in one write).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Read one (possibly multi-line) reply; its code.
pub async fn read_reply(s: &mut TcpStream, buf: &mut Vec<u8>) -> Result<u16> {
    loop {
        while let Some(pos) = buf.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = buf.drain(..=pos).collect();
            if line.len() >= 4 && line[3] == b'-' {
                continue;
            }
            return Ok(std::str::from_utf8(&line[..3])?.parse()?);
        }
        let mut chunk = [0u8; 4096];
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            bail!("server closed the connection");
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// The load generator: `sessions` connections, each sending its share of `messages` with
/// MAIL/RCPT/DATA pipelined; every message waits for its final reply. Returns the elapsed time
/// and how many messages got 250.
/// Send `messages` (already dot-stuffed DATA blocks) over `sessions` sessions; the time taken
/// and how many got `250`.
pub async fn blast(
    addr: String,
    from: &str,
    to: &str,
    messages: Arc<Vec<Vec<u8>>>,
    sessions: usize,
) -> Result<(Duration, usize)> {
    let start = Instant::now();
    let mut tasks = Vec::new();
    for s in 0..sessions {
        let (addr, from, to, messages) = (
            addr.clone(),
            from.to_owned(),
            to.to_owned(),
            messages.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut ok = 0usize;
            let mut c = TcpStream::connect(&addr).await?;
            c.set_nodelay(true)?;
            let mut buf = Vec::new();
            if read_reply(&mut c, &mut buf).await? != 220 {
                bail!("no greeting");
            }
            c.write_all(b"EHLO blast\r\n").await?;
            read_reply(&mut c, &mut buf).await?;
            for m in messages.iter().skip(s).step_by(sessions) {
                c.write_all(format!("MAIL FROM:<{from}>\r\nRCPT TO:<{to}>\r\nDATA\r\n").as_bytes())
                    .await?;
                let (a, b, d) = (
                    read_reply(&mut c, &mut buf).await?,
                    read_reply(&mut c, &mut buf).await?,
                    read_reply(&mut c, &mut buf).await?,
                );
                if (a, b, d) != (250, 250, 354) {
                    bail!("refused: {a} {b} {d}");
                }
                c.write_all(m).await?;
                if read_reply(&mut c, &mut buf).await? == 250 {
                    ok += 1;
                }
            }
            c.write_all(b"QUIT\r\n").await?;
            Ok::<usize, anyhow::Error>(ok)
        }));
    }
    let mut ok = 0;
    for t in tasks {
        ok += t.await??;
    }
    Ok((start.elapsed(), ok))
}
