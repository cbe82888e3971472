//! A small authoritative DNS server on loopback for the tests: the "ordinary DNS" the gateway
//! looks MX records up in. Real DNS over UDP and TCP, answered from a fixed zone.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};

use mail_auth::hickory_resolver::proto::op::{Message, MessageType, OpCode, ResponseCode};
use mail_auth::hickory_resolver::proto::rr::rdata::{A, MX, TXT};
use mail_auth::hickory_resolver::proto::rr::{Name, RData, Record, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};

/// One record in the zone.
#[derive(Clone, Debug)]
pub enum Entry {
    Mx(u16, &'static str),
    A(Ipv4Addr),
    Txt(&'static str),
}

/// The zone: (name, type) → records. Names not in it are NXDOMAIN.
#[derive(Clone, Debug, Default)]
pub struct Zone(HashMap<String, Vec<Entry>>);

impl Zone {
    pub fn with(mut self, name: &str, entry: Entry) -> Self {
        self.0
            .entry(name.to_ascii_lowercase())
            .or_default()
            .push(entry);
        self
    }

    fn answer(&self, query: &[u8]) -> Option<Vec<u8>> {
        let request = Message::from_vec(query).ok()?;
        let q = request.queries().first()?.clone();
        let mut response = Message::new(request.id(), MessageType::Response, OpCode::Query);
        response.set_authoritative(true);
        response.set_recursion_available(true);
        response.add_query(q.clone());
        let name = q
            .name()
            .to_ascii()
            .trim_end_matches('.')
            .to_ascii_lowercase();
        match self.0.get(&name) {
            None => {
                response.set_response_code(ResponseCode::NXDomain);
            }
            Some(entries) => {
                for e in entries {
                    let rdata = match (e, q.query_type()) {
                        (Entry::Mx(pref, host), RecordType::MX) => {
                            RData::MX(MX::new(*pref, Name::from_ascii(format!("{host}.")).ok()?))
                        }
                        (Entry::A(ip), RecordType::A) => RData::A(A(*ip)),
                        (Entry::Txt(text), RecordType::TXT) => {
                            RData::TXT(TXT::new(vec![(*text).to_owned()]))
                        }
                        _ => continue,
                    };
                    response.add_answer(Record::from_rdata(q.name().clone(), 60, rdata));
                }
            }
        }
        response.to_vec().ok()
    }
}

/// Serve `zone` on a free loopback port (UDP and TCP) until the runtime ends.
pub async fn serve(zone: Zone) -> SocketAddr {
    let udp = UdpSocket::bind("127.0.0.1:0")
        .await
        .expect("bind DNS (UDP)");
    let addr = udp.local_addr().expect("DNS address");
    let tcp = TcpListener::bind(addr).await.expect("bind DNS (TCP)");
    let z = zone.clone();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 1500];
        while let Ok((n, from)) = udp.recv_from(&mut buf).await {
            if let Some(answer) = z.answer(&buf[..n]) {
                let _ = udp.send_to(&answer, from).await;
            }
        }
    });
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = tcp.accept().await {
            let zone = zone.clone();
            tokio::spawn(async move {
                let mut len = [0u8; 2];
                while stream.read_exact(&mut len).await.is_ok() {
                    let mut query = vec![0u8; usize::from(u16::from_be_bytes(len))];
                    if stream.read_exact(&mut query).await.is_err() {
                        return;
                    }
                    let Some(answer) = zone.answer(&query) else {
                        return;
                    };
                    let Ok(n) = u16::try_from(answer.len()) else {
                        return;
                    };
                    if stream.write_all(&n.to_be_bytes()).await.is_err()
                        || stream.write_all(&answer).await.is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    addr
}
