//! Mail clients on this device: an IMAP server and SMTP submission (RFC 6409), bound to
//! 127.0.0.1 only, serving each identity's mailboxes to a login of that identity. The node
//! runs them when ports are configured ([`ClientPorts`]).

mod cache;
mod imap;
mod letter;
mod logins;
mod served;
mod submission;

use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

pub use logins::{ClientLoginView, DEFAULT_IMAP_PORT, DEFAULT_SUBMISSION_PORT};
pub use served::VERDICT_HEADERS;

use crate::{CoreError, Postern};

/// Where the mail-client servers listen (on 127.0.0.1); `None`: not run. Port 0 picks a free
/// port (tests).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientPorts {
    /// IMAP.
    pub imap: Option<u16>,
    /// SMTP submission.
    pub submission: Option<u16>,
}

/// Connections at once, per server.
const MAX_CONNECTIONS: usize = 32;

/// The running mail-client servers; stopped when dropped.
#[derive(Debug)]
pub struct ClientAccess {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    /// Where IMAP listens.
    pub imap: Option<SocketAddr>,
    /// Where submission listens.
    pub submission: Option<SocketAddr>,
}

fn bind(port: u16) -> Result<TcpListener, CoreError> {
    let l = TcpListener::bind(("127.0.0.1", port))
        .map_err(|e| CoreError::BadSetting(format!("cannot listen on 127.0.0.1:{port}: {e}")))?;
    Ok(l)
}

/// Accept until `stop` (a blocking accept: a connection is taken the moment it arrives; the
/// drop wakes it by connecting), each connection on its own thread (at most
/// `MAX_CONNECTIONS`).
fn accept_loop(
    listener: TcpListener,
    stop: Arc<AtomicBool>,
    serve: impl Fn(std::net::TcpStream) + Send + Sync + 'static,
) -> JoinHandle<()> {
    let serve = Arc::new(serve);
    std::thread::spawn(move || {
        let open = Arc::new(AtomicUsize::new(0));
        while !stop.load(Ordering::Relaxed) {
            match listener.accept() {
                Ok((stream, _)) => {
                    if stop.load(Ordering::Relaxed)
                        || open.load(Ordering::Relaxed) >= MAX_CONNECTIONS
                    {
                        drop(stream);
                        continue;
                    }
                    let _ = stream.set_nodelay(true);
                    open.fetch_add(1, Ordering::Relaxed);
                    let (serve, open) = (serve.clone(), open.clone());
                    std::thread::spawn(move || {
                        serve(stream);
                        open.fetch_sub(1, Ordering::Relaxed);
                    });
                }
                // Out of descriptors and the like: wait a little rather than spin.
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    })
}

impl ClientAccess {
    /// Start the servers `ports` asks for, on connections of `postern`'s store; `wake` is
    /// called when a submitted message is queued.
    pub(crate) fn start(
        postern: &Postern,
        ports: ClientPorts,
        max_message_size: usize,
        wake: Arc<dyn Fn() + Send + Sync>,
    ) -> Result<ClientAccess, CoreError> {
        let stop = Arc::new(AtomicBool::new(false));
        let guard = Arc::new(logins::LoginGuard::default());
        let mut access = ClientAccess {
            stop: stop.clone(),
            threads: Vec::new(),
            imap: None,
            submission: None,
        };
        if let Some(port) = ports.imap {
            let listener = bind(port)?;
            access.imap = listener.local_addr().ok();
            let base = std::sync::Mutex::new(postern.another_handle()?);
            let guard = guard.clone();
            let served = Arc::new(cache::ServedCache::new(cache::MESSAGES_BUDGET));
            let heads = Arc::new(cache::ServedCache::new(cache::HEADERS_BUDGET));
            access
                .threads
                .push(accept_loop(listener, stop.clone(), move |stream| {
                    let handle = base.lock().map(|b| b.another_handle());
                    if let Ok(Ok(p)) = handle {
                        let limits = postern_imap::Limits {
                            max_literal: max_message_size as u32,
                            max_command: max_message_size as u32 + 64 * 1024,
                            ..Default::default()
                        };
                        imap::serve_connection(
                            stream,
                            imap::AccountMail::new(
                                p,
                                guard.clone(),
                                [served.clone(), heads.clone()],
                            ),
                            limits,
                        );
                    }
                }));
        }
        if let Some(port) = ports.submission {
            let listener = bind(port)?;
            access.submission = listener.local_addr().ok();
            let base = std::sync::Mutex::new(postern.another_handle()?);
            access
                .threads
                .push(accept_loop(listener, stop, move |stream| {
                    let handle = base.lock().map(|b| b.another_handle());
                    if let Ok(Ok(p)) = handle {
                        submission::serve_connection(
                            stream,
                            p,
                            guard.clone(),
                            max_message_size,
                            &*wake,
                        );
                    }
                }));
        }
        Ok(access)
    }
}

impl Drop for ClientAccess {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake each blocked accept.
        for addr in [self.imap, self.submission].into_iter().flatten() {
            let _ = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1));
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}
