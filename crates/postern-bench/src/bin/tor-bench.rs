//! Tor benchmarks on the private Tor network (see the crate README). Usage:
//! `tor-bench [N]` (default N = 30 connects per client), `tor-bench connect [N]` (the connect
//! measurements only), `tor-bench memory` (P5).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use postern_bench::{ms, ratio, rss_kib, Stats};
use postern_crypto::IdentityKeys;
use postern_testnet::{Testnet, TestnetOptions};
use postern_transport::{ArtiOptions, ArtiTransport, Listener, ServiceOptions, Transport};
use postern_types::{LocalPart, OnionAddress};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn arti_options(dir: &Path, net: &Testnet) -> ArtiOptions {
    let mut o = ArtiOptions::in_dir(dir);
    o.network_toml = Some(net.arti_network_toml());
    o.bootstrap_timeout = Duration::from_secs(120);
    o.connect_timeout = Duration::from_secs(60);
    o
}

fn identity(name: &str) -> Result<IdentityKeys> {
    Ok(IdentityKeys::generate(LocalPart::new(name)?, "")?)
}

/// Every stream gets one byte ('2', like the start of an SMTP greeting), then an echo.
fn serve_greeting(mut listener: Listener) {
    tokio::spawn(async move {
        while let Some(mut inc) = listener.accept().await {
            tokio::spawn(async move {
                if inc.stream.write_all(b"2").await.is_err() {
                    return;
                }
                let _ = inc.stream.flush().await;
                let mut buf = [0u8; 512];
                while let Ok(n) = inc.stream.read(&mut buf).await {
                    if n == 0 || inc.stream.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
}

/// The onion address of source identity `i` (each has its own arti client).
fn fresh_source(i: u64) -> OnionAddress {
    let mut k = [0u8; 32];
    k[..8].copy_from_slice(&i.to_be_bytes());
    k[31] = 0xA5;
    OnionAddress::from_public_key(k)
}

/// One identity (`from`, with its own arti client, as in the product) connecting on new
/// circuits each time: what C tor does for a new SOCKS username.
async fn arti_connect_first_byte(
    t: &ArtiTransport,
    from: OnionAddress,
    to: OnionAddress,
) -> Result<Duration> {
    t.renew_isolation(&from);
    let start = Instant::now();
    let mut s = t.connect(&from, &to, 25).await?;
    let mut b = [0u8; 1];
    s.read_exact(&mut b).await?;
    Ok(start.elapsed())
}

async fn socks_connect(socks: u16, user: &str, host: &str, port: u16) -> Result<TcpStream> {
    let mut s = TcpStream::connect(("127.0.0.1", socks)).await?;
    s.set_nodelay(true)?;
    s.write_all(&[5, 1, 2]).await?;
    let mut r = [0u8; 2];
    s.read_exact(&mut r).await?;
    if r != [5, 2] {
        bail!("SOCKS method refused: {r:?}");
    }
    let mut auth = vec![1, user.len() as u8];
    auth.extend_from_slice(user.as_bytes());
    auth.extend_from_slice(&[1, b'x']);
    s.write_all(&auth).await?;
    s.read_exact(&mut r).await?;
    if r != [1, 0] {
        bail!("SOCKS auth refused");
    }
    let mut req = vec![5, 1, 0, 3, host.len() as u8];
    req.extend_from_slice(host.as_bytes());
    req.extend_from_slice(&port.to_be_bytes());
    s.write_all(&req).await?;
    let mut head = [0u8; 4];
    s.read_exact(&mut head).await?;
    if head[1] != 0 {
        bail!("SOCKS connect failed with reply {}", head[1]);
    }
    let rest = match head[3] {
        1 => 4 + 2,
        4 => 16 + 2,
        3 => {
            let mut l = [0u8; 1];
            s.read_exact(&mut l).await?;
            usize::from(l[0]) + 2
        }
        _ => bail!("bad SOCKS reply"),
    };
    let mut skip = vec![0u8; rest];
    s.read_exact(&mut skip).await?;
    Ok(s)
}

async fn ctor_connect_first_byte(socks: u16, user: String, to: OnionAddress) -> Result<Duration> {
    let start = Instant::now();
    let mut s = socks_connect(socks, &user, &to.to_string(), 25).await?;
    let mut b = [0u8; 1];
    s.read_exact(&mut b).await?;
    Ok(start.elapsed())
}

struct CTorClient {
    dir: PathBuf,
    socks: u16,
    control: u16,
}

impl CTorClient {
    fn start(net: &Testnet, dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        let socks = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let control = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let torrc = dir.join("torrc");
        // A control port on loopback, without authentication: the bench's own throwaway client.
        std::fs::write(
            &torrc,
            net.c_tor_client_torrc(dir, socks, std::process::id())
                + &format!("ControlPort 127.0.0.1:{control}\nCookieAuthentication 0\n"),
        )?;
        let out = Command::new("tor").arg("-f").arg(&torrc).output()?;
        if !out.status.success() {
            bail!(
                "C tor client failed: {}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
        let c = CTorClient {
            dir: dir.to_owned(),
            socks,
            control,
        };
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(120) {
            let log = std::fs::read_to_string(dir.join("notice.log")).unwrap_or_default();
            if log.contains("Bootstrapped 100%") {
                return Ok(c);
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        bail!("C tor client did not bootstrap")
    }

    /// `SIGNAL NEWNYM`: new circuits for new streams, and the onion-service client state
    /// (descriptors, introduction-point history) forgotten — what arti does for a stream in a
    /// new isolation group, whose onion-service state is kept per group.
    async fn new_identity(&self) -> Result<()> {
        let mut c = TcpStream::connect(("127.0.0.1", self.control)).await?;
        c.write_all(b"AUTHENTICATE\r\nSIGNAL NEWNYM\r\nQUIT\r\n")
            .await?;
        let mut reply = String::new();
        c.read_to_string(&mut reply).await?;
        if reply.lines().take(2).any(|l| !l.starts_with("250")) {
            bail!("C tor control port: {reply}");
        }
        Ok(())
    }

    fn pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.dir.join("tor.pid"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }
}

impl Drop for CTorClient {
    fn drop(&mut self) {
        if let Some(p) = self.pid() {
            let _ = Command::new("kill").arg(p.to_string()).status();
        }
    }
}

/// Retry `f` until it succeeds or `limit` passes.
async fn until_ok<F, Fut>(limit: Duration, mut f: F) -> Result<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Duration>>,
{
    let start = Instant::now();
    loop {
        match f().await {
            Ok(_) => return Ok(start.elapsed()),
            Err(e) if start.elapsed() < limit => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

fn report(name: &str, s: &Stats) {
    println!(
        "  {name:<22} n={:<3} median {:>9}  p90 {:>9}  min {:>9}  max {:>9}",
        s.n,
        ms(s.median),
        ms(s.p90),
        ms(s.min),
        ms(s.max)
    );
}

/// A `postern run` node with `identities` identities — on the private Tor network, or on
/// loopback TCP (no Tor at all) when `net` is `None` —; returns its RSS after it settles.
fn node_rss(net: Option<&Testnet>, dir: &Path, identities: usize) -> Result<u64> {
    let exe = std::env::current_exe()?;
    let postern = exe.with_file_name("postern");
    if !postern.is_file() {
        bail!(
            "{} not built (scripts/bench.sh builds it)",
            postern.display()
        );
    }
    let run = |args: &[&str]| -> Result<()> {
        let o = Command::new(&postern)
            .arg("--data-dir")
            .arg(dir.join("data"))
            .args(args)
            .env("POSTERN_PASSPHRASE", "bench")
            .output()?;
        if !o.status.success() {
            bail!("postern {args:?}: {}", String::from_utf8_lossy(&o.stderr));
        }
        Ok(())
    };
    run(&["init"])?;
    for i in 0..identities {
        run(&["identity", "new", &format!("id{i}")])?;
    }
    let mut command = Command::new(&postern);
    command.arg("--data-dir").arg(dir.join("data")).arg("run");
    match net {
        Some(net) => {
            let cfg = dir.join("network.toml");
            std::fs::write(&cfg, net.arti_network_toml())?;
            command.arg("--network-config").arg(cfg);
        }
        None => {
            command.arg("--loopback").arg(dir.join("registry"));
        }
    }
    let mut child = command
        .env("POSTERN_PASSPHRASE", "bench")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(dir.join("node.log"))?)
        .spawn()?;
    use std::io::BufRead;
    let out = std::io::BufReader::new(child.stdout.take().context("stdout")?);
    let mut connected = false;
    for line in out.lines() {
        if line?.starts_with("Connected.") {
            connected = true;
            break;
        }
    }
    if !connected {
        let log = std::fs::read_to_string(dir.join("node.log")).unwrap_or_default();
        bail!("the node did not come up: {log}");
    }
    // Several identities' services are launched over `launch_spread` after "Connected.", each
    // on its own arti client: measure once all are up.
    let launching = if identities > 1 {
        postern_core::NodeConfig::default().unlinking.launch_spread
    } else {
        Duration::ZERO
    };
    std::thread::sleep(launching + Duration::from_secs(15));
    let rss = rss_kib(child.id());
    let _ = child.kill();
    let _ = child.wait();
    rss.context("no RSS")
}

/// P5: a node's resident memory for 1, 3 and 10 identities, on the private Tor network and on
/// loopback (the difference is what Tor costs the node: arti, its directory, circuits), beside
/// as many C tor client processes as there are identities (what a client per identity in C tor
/// would cost). `tor-bench memory`.
fn memory() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let net = Testnet::start(&tmp.path().join("net"), &TestnetOptions::default())?;
    println!("P5 resident memory, 15 s after the last service launched (KiB)");
    println!(
        "  {:>10} {:>12} {:>14} {:>12} {:>16} {:>8}",
        "identities", "node (Tor)", "node (no Tor)", "Tor's share", "C tor x N (sum)", "ratio"
    );
    let mut ctor_dirs = Vec::new();
    let mut ctors: Vec<CTorClient> = Vec::new();
    let mut previous: Option<(usize, u64)> = None;
    for k in [1usize, 3, 10] {
        let tor = node_rss(Some(&net), &tmp.path().join(format!("tor-{k}")), k)?;
        let bare = node_rss(None, &tmp.path().join(format!("loop-{k}")), k)?;
        while ctors.len() < k {
            let dir = tmp.path().join(format!("ctor-{}", ctors.len()));
            ctors.push(CTorClient::start(&net, &dir)?);
            ctor_dirs.push(dir);
        }
        std::thread::sleep(Duration::from_secs(15));
        let sum: u64 = ctors
            .iter()
            .map(|c| c.pid().and_then(rss_kib).unwrap_or(0))
            .sum();
        println!(
            "  {k:>10} {tor:>12} {bare:>14} {:>12} {sum:>16} {:>7.2}x",
            tor.saturating_sub(bare),
            tor as f64 / sum.max(1) as f64
        );
        if let Some((pk, pt)) = previous {
            let per = (tor as f64 - pt as f64) / (k - pk) as f64;
            let per_ctor = sum as f64 / k as f64;
            println!(
                "  {:>10} per added identity: node +{per:.0} KiB; one C tor client {per_ctor:.0} KiB ({:.2}x)",
                "",
                per / per_ctor
            );
        }
        previous = Some((k, tor));
    }
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("memory") {
        return memory();
    }
    // `connect [N]`: section 1 only.
    let connect_only = args.first().map(String::as_str) == Some("connect");
    let n: usize = args
        .get(usize::from(connect_only))
        .and_then(|a| a.parse().ok())
        .unwrap_or(30);
    let _ = tracing_subscriber::fmt()
        .with_env_filter(std::env::var("RUST_LOG").unwrap_or_else(|_| "error".into()))
        .try_init();
    let tmp = tempfile::tempdir()?;
    let t0 = Instant::now();
    let net = Testnet::start(
        &tmp.path().join("net"),
        &TestnetOptions {
            c_tor_compat: true,
            owner_pid: None,
        },
    )?;
    println!(
        "private Tor network up in {:.1}s",
        t0.elapsed().as_secs_f64()
    );

    let service_t = ArtiTransport::new(arti_options(&tmp.path().join("service"), &net))?;
    service_t.start().await?;
    let client_t = ArtiTransport::new(arti_options(&tmp.path().join("client"), &net))?;
    client_t.start().await?;
    let ctor = CTorClient::start(&net, &tmp.path().join("ctor"))?;

    // 1. Onion connect + first byte, alternating clients, fresh circuit every time.
    let bob = identity("bob")?;
    let b = *bob.address().onion();
    serve_greeting(
        service_t
            .serve(&bob, &ServiceOptions::for_ports(&[25]))
            .await?,
    );
    let warm_a = until_ok(Duration::from_secs(180), || {
        arti_connect_first_byte(&client_t, fresh_source(0), b)
    })
    .await?;
    let warm_c = until_ok(Duration::from_secs(600), || {
        ctor_connect_first_byte(ctor.socks, "warm".into(), b)
    })
    .await?;
    println!(
        "warm-up: arti reached the service after {}, C tor after {}",
        ms(warm_a),
        ms(warm_c)
    );
    // Back to back, as earlier runs measured: arti as below, C tor with a new SOCKS username
    // only, so with its descriptor cached and its spare circuits built since the last connect.
    let (mut arti_b2b, mut ctor_b2b, mut failures_b2b) = (Vec::new(), Vec::new(), (0, 0));
    for i in 0..n {
        match arti_connect_first_byte(&client_t, fresh_source(0), b).await {
            Ok(d) => arti_b2b.push(d),
            Err(_) => failures_b2b.0 += 1,
        }
        match ctor_connect_first_byte(ctor.socks, format!("iso{i}"), b).await {
            Ok(d) => ctor_b2b.push(d),
            Err(_) => failures_b2b.1 += 1,
        }
    }

    // Each round: C tor forgets its circuits and onion-service state (NEWNYM, which Tor allows
    // once per 10 s; the pause also lets it build spare circuits again, as arti keeps its own);
    // then arti connects as one identity on new circuits — arti keeps onion-service state
    // (descriptor, introduction points) per isolation group, so it fetches the descriptor again
    // —; then C tor connects the same way (a new SOCKS username, nothing cached); then C tor
    // once more on new circuits but with the descriptor it now has cached, which is what a new
    // SOCKS username alone gives it.
    let (mut arti, mut cold, mut cached) = (Vec::new(), Vec::new(), Vec::new());
    let mut failures = (0, 0, 0);
    let mut arti_errors = std::collections::BTreeMap::<String, usize>::new();
    for i in 0..n {
        ctor.new_identity().await?;
        tokio::time::sleep(Duration::from_secs(10)).await;
        match arti_connect_first_byte(&client_t, fresh_source(0), b).await {
            Ok(d) => arti.push(d),
            Err(e) => {
                failures.0 += 1;
                *arti_errors.entry(format!("{e:#}")).or_default() += 1;
            }
        }
        match ctor_connect_first_byte(ctor.socks, format!("cold{i}"), b).await {
            Ok(d) => cold.push(d),
            Err(_) => failures.1 += 1,
        }
        match ctor_connect_first_byte(ctor.socks, format!("cached{i}"), b).await {
            Ok(d) => cached.push(d),
            Err(_) => failures.2 += 1,
        }
    }
    let sa = Stats::of(&arti).context("no arti samples")?;
    let (sc, sk) = (
        Stats::of(&cold).context("no C tor samples")?,
        Stats::of(&cached).context("no C tor samples")?,
    );
    println!("\n1. onion connect + first byte, new circuits each time, {n} rounds");
    report("arti client", &sa);
    report("C tor, nothing cached", &sc);
    report("C tor, descriptor kept", &sk);
    println!(
        "  arti / C tor with nothing cached (like for like): median {}, p90 {}",
        ratio(sa.median, sc.median),
        ratio(sa.p90, sc.p90)
    );
    println!(
        "  arti / C tor keeping its descriptor:              median {}, p90 {}",
        ratio(sa.median, sk.median),
        ratio(sa.p90, sk.p90)
    );
    println!(
        "  failures: arti {}, C tor {} + {}",
        failures.0, failures.1, failures.2
    );
    for (e, k) in &arti_errors {
        println!("    arti {k}x: {e}");
    }
    if let (Some(a), Some(c)) = (Stats::of(&arti_b2b), Stats::of(&ctor_b2b)) {
        println!("  back to back, no pause ({n} each):");
        report("arti client", &a);
        report("C tor, warm", &c);
        println!(
            "  arti / warm C tor: median {}, p90 {}   (failures: arti {}, C tor {})",
            ratio(a.median, c.median),
            ratio(a.p90, c.p90),
            failures_b2b.0,
            failures_b2b.1
        );
    }
    if connect_only {
        return Ok(());
    }

    // 2. Service launch -> first successful connect. A launch that is not reachable within the
    // limit counts as a failure. Arti clients are measured on a second network with Tor's
    // default onion-service time periods (on the C-tor-compatible network, with its 8-minute
    // periods, arti clients often miss services launched after they started; see
    // docs/benchmarks.md); C tor clients on the compatible one.
    let net2 = Testnet::start(&tmp.path().join("net2"), &TestnetOptions::default())?;
    let service2 = ArtiTransport::new(arti_options(&tmp.path().join("service2"), &net2))?;
    service2.start().await?;
    let client2 = ArtiTransport::new(arti_options(&tmp.path().join("client2"), &net2))?;
    client2.start().await?;
    let (mut launch_a, mut launch_c, mut launch_fail) = (Vec::new(), Vec::new(), (0, 0));
    for i in 0..5u64 {
        let id = identity(&format!("svc{i}"))?;
        let onion = *id.address().onion();
        let started = Instant::now();
        serve_greeting(
            service2
                .serve(&id, &ServiceOptions::for_ports(&[25]))
                .await?,
        );
        let r = until_ok(Duration::from_secs(120), || {
            arti_connect_first_byte(&client2, fresh_source(1), onion)
        })
        .await;
        match r {
            Ok(_) => launch_a.push(started.elapsed()),
            Err(_) => launch_fail.0 += 1,
        }
        let id = identity(&format!("ctorsvc{i}"))?;
        let onion = *id.address().onion();
        let started = Instant::now();
        serve_greeting(
            service_t
                .serve(&id, &ServiceOptions::for_ports(&[25]))
                .await?,
        );
        let r = until_ok(Duration::from_secs(120), || {
            ctor_connect_first_byte(ctor.socks, format!("launch{i}"), onion)
        })
        .await;
        match r {
            Ok(_) => launch_c.push(started.elapsed()),
            Err(_) => launch_fail.1 += 1,
        }
    }
    println!("\n2. service launch -> first successful connect (+ first byte), 5 launches each");
    if let Some(s) = Stats::of(&launch_a) {
        report("arti client", &s);
    }
    if let Some(s) = Stats::of(&launch_c) {
        report("C tor client", &s);
    }
    println!(
        "  not reachable within 120 s: arti {}, C tor {}",
        launch_fail.0, launch_fail.1
    );

    // 3. Memory.
    let node = node_rss(Some(&net2), &tmp.path().join("node"), 3)?;
    let ctor_rss = ctor.pid().and_then(rss_kib).context("C tor RSS")?;
    println!("\n3. resident memory");
    println!("  postern node serving 3 identities: {:>7} KiB", node);
    println!("  C tor client process:              {:>7} KiB", ctor_rss);
    println!(
        "  ratio node / C tor: {:.2}x",
        node as f64 / ctor_rss as f64
    );
    Ok(())
}
