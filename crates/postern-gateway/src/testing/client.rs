//! A bare SMTP client for probing a server line by line.

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

#[derive(Debug)]
pub struct Probe {
    stream: BufReader<TcpStream>,
}

impl Probe {
    /// Connect and read the greeting; returns the probe and the greeting's code.
    pub async fn connect(port: u16) -> (Probe, u16, String) {
        let stream = TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect");
        let mut probe = Probe {
            stream: BufReader::new(stream),
        };
        let (code, text) = probe.reply().await;
        (probe, code, text)
    }

    /// Read one (possibly multi-line) reply: its code and text (0 if the server closed).
    pub async fn reply(&mut self) -> (u16, String) {
        let mut text = String::new();
        loop {
            let mut line = String::new();
            match self.stream.read_line(&mut line).await {
                Ok(0) | Err(_) => return (0, text),
                Ok(_) => {}
            }
            text.push_str(&line);
            if line.len() < 4 || line.as_bytes()[3] != b'-' {
                let code = line.get(..3).and_then(|c| c.parse().ok()).unwrap_or(0);
                return (code, text);
            }
        }
    }

    /// Send raw bytes.
    pub async fn send(&mut self, bytes: &[u8]) {
        let _ = self.stream.get_mut().write_all(bytes).await;
    }

    /// Send a command line and read its reply.
    pub async fn cmd(&mut self, line: &str) -> (u16, String) {
        self.send(format!("{line}\r\n").as_bytes()).await;
        self.reply().await
    }
}
