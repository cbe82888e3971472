//! Reading the consensus an authority serves (plain HTTP/1.0 on its DirPort).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

pub(crate) struct Summary {
    /// Relays flagged Fast, Stable, Guard and HSDir.
    pub usable: usize,
}

pub(crate) fn fetch(dir_port: u16) -> Result<String, String> {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], dir_port));
    let mut s =
        TcpStream::connect_timeout(&addr, Duration::from_secs(2)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    s.write_all(
        b"GET /tor/status-vote/current/consensus-microdesc HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n",
    )
    .map_err(|e| e.to_string())?;
    let mut body = Vec::new();
    s.take(8 << 20)
        .read_to_end(&mut body)
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&body).into_owned();
    match text.split_once("\r\n\r\n") {
        Some((head, rest)) if head.starts_with("HTTP/1.0 200") => Ok(rest.to_owned()),
        Some((head, _)) => Err(head.lines().next().unwrap_or("").to_owned()),
        None => Err("no HTTP response".into()),
    }
}

pub(crate) fn summarize(consensus: &str) -> Summary {
    let usable = consensus
        .lines()
        .filter(|l| l.starts_with("s "))
        .filter(|l| {
            let flags: Vec<&str> = l.split_whitespace().collect();
            ["Fast", "Stable", "Guard", "HSDir"]
                .iter()
                .all(|f| flags.contains(f))
        })
        .count();
    Summary { usable }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_only_fully_flagged_relays() {
        let c = "r a\ns Fast Guard HSDir Running Stable V2Dir Valid\nr b\ns Fast Running Valid\n\
                 r c\ns Exit Fast Guard HSDir Running Stable Valid\n";
        assert_eq!(summarize(c).usable, 2);
    }
}
