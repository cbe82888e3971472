//! Mail clients on this device: an IMAP server and SMTP submission (RFC 6409), bound to
//! 127.0.0.1 only, serving each identity's mailboxes to a login of that identity. The node
//! runs them when ports are configured ([`ClientPorts`]).

mod cache;
mod heads;
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

/// Who may log in on a connection: any identity of this device (the listeners on
/// 127.0.0.1), or only the accounts a host's onion service answers for (a connection that came
/// through Tor to that onion).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reach {
    /// On this device.
    Local,
    /// Through the onion service of this onion address (`<56>.onion`).
    Onion(String),
}

/// A byte stream a blocking client server runs over: a TCP connection, or one end of the
/// socket pair an onion stream is bridged to.
pub(crate) trait ClientStream: std::io::Read + std::io::Write + Send + 'static {
    /// See [`TcpStream::set_read_timeout`].
    fn set_read_timeout(&self, timeout: Option<Duration>) -> std::io::Result<()>;
}

impl ClientStream for std::net::TcpStream {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> std::io::Result<()> {
        std::net::TcpStream::set_read_timeout(self, timeout)
    }
}

impl ClientStream for std::os::unix::net::UnixStream {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> std::io::Result<()> {
        std::os::unix::net::UnixStream::set_read_timeout(self, timeout)
    }
}

/// What the IMAP and submission servers share, wherever a connection comes from: a store
/// handle to open connections from, the login guards (one for this device, one for every
/// onion, so that strangers cannot lock the device's own clients out), the served-message
/// caches, and the outbox's wake-up.
pub(crate) struct ClientServers {
    base: std::sync::Mutex<Postern>,
    local_guard: Arc<logins::LoginGuard>,
    onion_guard: Arc<logins::LoginGuard>,
    served: [Arc<cache::ServedCache>; 2],
    max_message_size: usize,
    wake: Arc<dyn Fn() + Send + Sync>,
    onion_open: AtomicUsize,
}

impl std::fmt::Debug for ClientServers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientServers").finish_non_exhaustive()
    }
}

impl ClientServers {
    /// Servers on connections of `postern`'s store; `wake` is called when a submitted message
    /// is queued.
    pub(crate) fn new(
        postern: &Postern,
        max_message_size: usize,
        wake: Arc<dyn Fn() + Send + Sync>,
    ) -> Result<Arc<ClientServers>, CoreError> {
        let servers = Arc::new(ClientServers {
            base: std::sync::Mutex::new(postern.another_handle()?),
            local_guard: Arc::default(),
            onion_guard: Arc::default(),
            served: [
                Arc::new(cache::ServedCache::new(cache::MESSAGES_BUDGET)),
                Arc::new(cache::ServedCache::new(cache::HEADERS_BUDGET)),
            ],
            max_message_size,
            wake,
            onion_open: AtomicUsize::new(0),
        });
        let weak = Arc::downgrade(&servers);
        std::thread::spawn(move || heads::prepare_heads(weak));
        Ok(servers)
    }

    fn handle(&self) -> Option<Postern> {
        self.base.lock().ok()?.another_handle().ok()
    }

    fn guard(&self, reach: &Reach) -> Arc<logins::LoginGuard> {
        match reach {
            Reach::Local => self.local_guard.clone(),
            Reach::Onion(_) => self.onion_guard.clone(),
        }
    }

    /// Serve one IMAP connection until it ends.
    pub(crate) fn imap(&self, stream: impl ClientStream, reach: Reach) {
        let Some(p) = self.handle() else { return };
        let limits = postern_imap::Limits {
            max_literal: self.max_message_size as u32,
            max_command: self.max_message_size as u32 + 64 * 1024,
            ..Default::default()
        };
        let guard = self.guard(&reach);
        let mail = imap::AccountMail::new(p, guard, self.served.clone(), reach);
        imap::serve_connection(stream, mail, limits);
    }

    /// Serve one submission connection until it ends.
    pub(crate) fn submission(&self, stream: impl ClientStream, reach: Reach) {
        let Some(p) = self.handle() else { return };
        let guard = self.guard(&reach);
        submission::serve_connection(stream, p, guard, reach, self.max_message_size, &*self.wake);
    }

    /// Serve a stream that reached `onion`'s service on the IMAP or submission port: the
    /// blocking server runs on its own thread over a socket pair, bridged to the stream. At
    /// most `MAX_CONNECTIONS` such connections at once; more are closed.
    pub(crate) async fn serve_onion(
        self: Arc<Self>,
        port: u16,
        mut stream: postern_transport::Stream,
        onion: String,
    ) {
        use crate::{ONION_IMAP_PORT, ONION_SUBMISSION_PORT};
        if self.onion_open.fetch_add(1, Ordering::Relaxed) >= MAX_CONNECTIONS {
            self.onion_open.fetch_sub(1, Ordering::Relaxed);
            return;
        }
        let bridged = async {
            let (ours, theirs) = std::os::unix::net::UnixStream::pair().ok()?;
            theirs.set_nonblocking(true).ok()?;
            let mut theirs = tokio::net::UnixStream::from_std(theirs).ok()?;
            let servers = self.clone();
            let reach = Reach::Onion(onion);
            std::thread::spawn(move || match port {
                ONION_IMAP_PORT => servers.imap(ours, reach),
                ONION_SUBMISSION_PORT => servers.submission(ours, reach),
                _ => {}
            });
            tokio::io::copy_bidirectional(&mut stream, &mut theirs)
                .await
                .ok()
        };
        let _ = bridged.await;
        self.onion_open.fetch_sub(1, Ordering::Relaxed);
    }
}

impl ClientAccess {
    /// Start the listeners on 127.0.0.1 that `ports` asks for.
    pub(crate) fn start(
        servers: &Arc<ClientServers>,
        ports: ClientPorts,
    ) -> Result<ClientAccess, CoreError> {
        let stop = Arc::new(AtomicBool::new(false));
        let mut access = ClientAccess {
            stop: stop.clone(),
            threads: Vec::new(),
            imap: None,
            submission: None,
        };
        if let Some(port) = ports.imap {
            let listener = bind(port)?;
            access.imap = listener.local_addr().ok();
            let servers = servers.clone();
            access
                .threads
                .push(accept_loop(listener, stop.clone(), move |stream| {
                    servers.imap(stream, Reach::Local)
                }));
        }
        if let Some(port) = ports.submission {
            let listener = bind(port)?;
            access.submission = listener.local_addr().ok();
            let servers = servers.clone();
            access
                .threads
                .push(accept_loop(listener, stop, move |stream| {
                    servers.submission(stream, Reach::Local)
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
