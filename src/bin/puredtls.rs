//! `puredtls`: a DTLS 1.2 server and client for the command line, on the `puredtls::net`
//! socket adapter. Built with the `cli` feature:
//!
//! ```text
//! cargo run --features cli --bin puredtls -- server --listen 127.0.0.1:4242 --echo
//! cargo run --features cli --bin puredtls -- client 127.0.0.1:4242 --insecure --message hello
//! ```
//!
//! Data goes to stdout (one line per packet); progress and errors go to stderr. Ctrl-C closes
//! every connection with close_notify before exiting.

use std::io::BufRead;
use std::net::{SocketAddr, ToSocketAddrs};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{ArgGroup, Args, Parser, Subcommand};

use puredtls::cert::{
    fingerprint_sha256, generate_self_signed, load_certificates, parse_fingerprint,
};
use puredtls::net::{DtlsServer, DtlsStatus, PacketPeerDtls, PacketPeerUdp, UdpServer};
use puredtls::{
    CertificateDer, ClientAuth, ClientConfig, PrivateKey, ServerCertVerification, ServerConfig,
    TrustAnchors,
};

/// How long one loop iteration may sleep waiting for the socket.
const TICK: Duration = Duration::from_millis(20);

#[derive(Parser)]
#[command(
    name = "puredtls",
    version,
    about = "DTLS 1.2 server and client (pure Rust)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Accept DTLS clients; print what they send, one line per packet.
    Server(ServerArgs),
    /// Connect to a DTLS server, send messages and print the replies.
    Client(ClientArgs),
}

#[derive(Args)]
struct ServerArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:4242")]
    listen: SocketAddr,
    /// Certificate (PEM or DER; a PEM file may hold the chain after the leaf). Without
    /// --cert/--key a self-signed certificate is generated and its fingerprint printed.
    #[arg(long, requires = "key")]
    cert: Option<String>,
    /// Private key for --cert (PEM: PKCS#8 or SEC1, P-256).
    #[arg(long, requires = "cert")]
    key: Option<String>,
    /// Intermediate certificates to send after the leaf (PEM).
    #[arg(long, requires = "cert")]
    chain: Option<String>,
    /// Ask clients for a certificate and verify it against these CAs (PEM).
    #[arg(long)]
    ca: Option<String>,
    /// Refuse clients without a certificate (needs --ca).
    #[arg(long, requires = "ca")]
    require_client_cert: bool,
    /// Largest UDP payload to send, in bytes (handshake flights are fragmented to fit).
    #[arg(long)]
    mtu: Option<usize>,
    /// Send every packet back to its sender.
    #[arg(long)]
    echo: bool,
}

#[derive(Args)]
#[command(group(ArgGroup::new("verify").required(true).args(["ca", "fingerprint", "insecure"])))]
struct ClientArgs {
    /// Server address, e.g. 127.0.0.1:4242.
    server: String,
    /// Verify the server's certificate chain against these CAs (PEM).
    #[arg(long)]
    ca: Option<String>,
    /// Name the server's certificate must be valid for (default: the host of the address).
    #[arg(long, requires = "ca")]
    server_name: Option<String>,
    /// Accept only a server certificate with this SHA-256 fingerprint (AB:CD:… or hex).
    #[arg(long)]
    fingerprint: Option<String>,
    /// Accept any server certificate (anyone on the path can impersonate the server).
    #[arg(long)]
    insecure: bool,
    /// Client certificate to present when the server asks (PEM or DER).
    #[arg(long, requires = "key")]
    cert: Option<String>,
    /// Private key for --cert.
    #[arg(long, requires = "cert")]
    key: Option<String>,
    /// Largest UDP payload to send, in bytes.
    #[arg(long)]
    mtu: Option<usize>,
    /// Message to send (repeatable); without any, each line of stdin is a message.
    #[arg(long = "message", value_name = "TEXT")]
    messages: Vec<String>,
    /// Send the --message list this many times.
    #[arg(long, default_value_t = 1)]
    count: u32,
    /// Seconds to wait for the handshake and for each reply.
    #[arg(long, default_value_t = 10)]
    timeout: u64,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    if let Err(e) = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst)) {
        eprintln!("warning: cannot catch Ctrl-C ({e}); it will exit without close_notify");
    }
    let result = match cli.command {
        Command::Server(args) => run_server(args, &stop),
        Command::Client(args) => run_client(args, &stop),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn read(path: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))
}

fn load_key(path: &str) -> Result<PrivateKey, String> {
    let bytes = read(path)?;
    match std::str::from_utf8(&bytes) {
        Ok(text) if text.contains("-----BEGIN") => PrivateKey::from_pem(text),
        _ => PrivateKey::from_der(&bytes),
    }
    .map_err(|e| format!("{path}: {e}"))
}

fn load_certs(path: &str) -> Result<Vec<CertificateDer>, String> {
    load_certificates(&read(path)?).map_err(|e| format!("{path}: {e}"))
}

fn load_anchors(path: &str) -> Result<TrustAnchors, String> {
    TrustAnchors::from_pem(&read(path)?).map_err(|e| format!("{path}: {e}"))
}

/// Lines of stdin, read on a thread so the socket loop never blocks on the terminal.
fn stdin_lines() -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// A packet as one line of output.
fn as_line(packet: &[u8]) -> String {
    let text = String::from_utf8_lossy(packet);
    text.strip_suffix('\n').unwrap_or(&text).to_string()
}

fn server_config(args: &ServerArgs) -> Result<ServerConfig, String> {
    let (key, mut chain) = match (&args.cert, &args.key) {
        (Some(cert), Some(key)) => (load_key(key)?, load_certs(cert)?),
        _ => {
            let (key, cert) =
                generate_self_signed(&["localhost", "127.0.0.1"]).map_err(|e| e.to_string())?;
            eprintln!(
                "no --cert/--key: generated a self-signed certificate for localhost and \
                 127.0.0.1\nSHA-256 fingerprint: {}",
                fingerprint_sha256(&cert)
            );
            (key, vec![cert])
        }
    };
    if let Some(path) = &args.chain {
        chain.extend(load_certs(path)?);
    }
    let mut config = ServerConfig::new(chain, key).map_err(|e| e.to_string())?;
    if let Some(path) = &args.ca {
        let verifier = ServerCertVerification::WebPki {
            anchors: load_anchors(path)?,
        };
        config.client_auth = if args.require_client_cert {
            ClientAuth::Required(verifier)
        } else {
            ClientAuth::Optional(verifier)
        };
    }
    if let Some(mtu) = args.mtu {
        config.common.mtu = mtu;
    }
    Ok(config)
}

fn suite_name(peer: &PacketPeerDtls) -> String {
    peer.cipher_suite()
        .map_or_else(|| "unknown suite".into(), |s| format!("{s:?}"))
}

fn run_server(args: ServerArgs, stop: &AtomicBool) -> Result<(), String> {
    let config = server_config(&args)?;
    let mut dtls = DtlsServer::new();
    dtls.setup_with_config(Arc::new(config))
        .map_err(|e| e.to_string())?;
    let mut udp = UdpServer::new();
    udp.listen_on(args.listen)
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    eprintln!(
        "listening on {} (Ctrl-C to stop)",
        udp.local_addr().unwrap_or(args.listen)
    );
    let input = stdin_lines();
    let mut peers: Vec<(PacketPeerDtls, DtlsStatus)> = Vec::new();

    while !stop.load(Ordering::SeqCst) {
        udp.wait(TICK).map_err(|e| e.to_string())?;
        if let Err(e) = udp.poll() {
            eprintln!("socket error: {e}");
        }
        while let Some(conn) = udp.take_connection() {
            let peer = dtls.take_connection(conn);
            if peer.get_status() == DtlsStatus::Handshaking {
                peers.push((peer, DtlsStatus::Handshaking));
            }
        }
        let broadcast: Vec<String> = input.try_iter().collect();
        for (peer, last) in &mut peers {
            peer.poll();
            let status = peer.get_status();
            let addr = peer
                .peer_address()
                .map_or_else(|| "?".into(), |a| a.to_string());
            if status != *last {
                match status {
                    DtlsStatus::Connected => {
                        eprintln!("{addr}: connected ({})", suite_name(peer))
                    }
                    DtlsStatus::Disconnected => eprintln!("{addr}: closed"),
                    DtlsStatus::Error | DtlsStatus::ErrorHostnameMismatch => eprintln!(
                        "{addr}: failed: {}",
                        peer.last_error()
                            .map_or_else(|| format!("{status:?}"), |e| e.to_string())
                    ),
                    DtlsStatus::Handshaking => {}
                }
                *last = status;
            }
            while let Some(packet) = peer.get_packet() {
                println!("{}", as_line(&packet));
                if args.echo {
                    if let Err(e) = peer.put_packet(&packet) {
                        eprintln!("{addr}: cannot echo: {e}");
                    }
                }
            }
            if status == DtlsStatus::Connected {
                for line in &broadcast {
                    if let Err(e) = peer.put_packet(format!("{line}\n").as_bytes()) {
                        eprintln!("{addr}: cannot send: {e}");
                    }
                }
            }
        }
        peers.retain(|(_, s)| matches!(s, DtlsStatus::Handshaking | DtlsStatus::Connected));
    }
    eprintln!("stopping: closing {} connection(s)", peers.len());
    for (peer, _) in &mut peers {
        peer.disconnect_from_peer();
    }
    Ok(())
}

fn client_config(args: &ClientArgs, server: SocketAddr) -> Result<ClientConfig, String> {
    let mut config = if let Some(path) = &args.ca {
        let name = match &args.server_name {
            Some(n) => n.clone(),
            None => host_of(&args.server).unwrap_or_else(|| server.ip().to_string()),
        };
        ClientConfig::new(load_anchors(path)?, &name)
    } else if let Some(fp) = &args.fingerprint {
        let fp = parse_fingerprint(fp).map_err(|e| format!("--fingerprint: {e}"))?;
        ClientConfig::with_verification(ServerCertVerification::PinnedSha256(fp), None)
    } else {
        eprintln!("warning: --insecure: the server's certificate is not checked");
        ClientConfig::dangerous_accept_any_certificate()
    };
    if let (Some(cert), Some(key)) = (&args.cert, &args.key) {
        config = config
            .with_client_certificate(load_certs(cert)?, load_key(key)?)
            .map_err(|e| e.to_string())?;
    }
    if let Some(mtu) = args.mtu {
        config.common.mtu = mtu;
    }
    config.common.timers.handshake_timeout = Duration::from_secs(args.timeout.max(1));
    Ok(config)
}

/// The host part of `host:port` or `[v6]:port`.
fn host_of(address: &str) -> Option<String> {
    let (host, _) = address.rsplit_once(':')?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    (!host.is_empty()).then(|| host.to_string())
}

/// Polls `peer` until `done` or the deadline; `Err` on Ctrl-C.
fn drive(
    peer: &mut PacketPeerDtls,
    stop: &AtomicBool,
    deadline: Instant,
    mut done: impl FnMut(&mut PacketPeerDtls) -> bool,
) -> Result<bool, String> {
    loop {
        peer.poll();
        if done(peer) {
            return Ok(true);
        }
        if stop.load(Ordering::SeqCst) {
            peer.disconnect_from_peer();
            return Err("interrupted; sent close_notify".into());
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(false);
        }
        peer.wait(TICK.min(deadline - now))
            .map_err(|e| e.to_string())?;
    }
}

fn failure(peer: &PacketPeerDtls) -> String {
    match peer.last_error() {
        Some(e) => e.to_string(),
        None => match peer.get_status() {
            DtlsStatus::Disconnected => "the server closed the connection".into(),
            other => format!("status {other:?}"),
        },
    }
}

fn run_client(args: ClientArgs, stop: &AtomicBool) -> Result<(), String> {
    let server = args
        .server
        .to_socket_addrs()
        .map_err(|e| format!("{}: {e} (use host:port, e.g. 127.0.0.1:4242)", args.server))?
        .next()
        .ok_or_else(|| format!("{}: no address", args.server))?;
    let config = client_config(&args, server)?;
    let timeout = Duration::from_secs(args.timeout.max(1));

    let mut udp = PacketPeerUdp::new();
    udp.connect_to_host(server)
        .map_err(|e| format!("cannot reach {server}: {e}"))?;
    let mut peer = PacketPeerDtls::new();
    peer.connect_to_peer_with_config(udp, Arc::new(config))
        .map_err(|e| e.to_string())?;
    let connected = drive(&mut peer, stop, Instant::now() + timeout, |p| {
        p.get_status() != DtlsStatus::Handshaking
    })?;
    if !connected || peer.get_status() != DtlsStatus::Connected {
        let mut why = failure(&peer);
        if let Some(e) = peer.last_socket_error() {
            why = format!("{why} (last socket error: {e}; is a server listening on {server}?)");
        }
        if matches!(peer.last_error(), Some(puredtls::Error::AlertReceived(_)))
            && args.cert.is_none()
        {
            why = format!(
                "{why}; if the server requires a client certificate, pass --cert and --key"
            );
        }
        return Err(format!("handshake with {server} failed: {why}"));
    }
    eprintln!("connected to {server} ({})", suite_name(&peer));

    let from_stdin = args.messages.is_empty();
    let input = from_stdin.then(stdin_lines);
    let mut queued = args
        .messages
        .iter()
        .cycle()
        .take(args.messages.len() * args.count as usize);
    let mut answered = 0usize;
    loop {
        let message = match &input {
            None => match queued.next() {
                Some(m) => m.clone(),
                None => break,
            },
            Some(lines) => match next_line(lines, &mut peer, stop)? {
                Some(line) => line,
                None => break,
            },
        };
        peer.put_packet(message.as_bytes())
            .map_err(|e| format!("cannot send: {e}"))?;
        let got_reply = drive(&mut peer, stop, Instant::now() + timeout, |p| {
            p.get_available_packet_count() > 0 || p.get_status() != DtlsStatus::Connected
        })?;
        let Some(reply) = peer.get_packet() else {
            let why = if got_reply {
                failure(&peer)
            } else {
                format!("no reply within {} s", timeout.as_secs())
            };
            return Err(format!(
                "{answered} of the messages were echoed, then: {why}"
            ));
        };
        println!("{}", as_line(&reply));
        if reply != message.as_bytes() {
            peer.disconnect_from_peer();
            return Err(format!(
                "the reply {:?} is not the echo of {message:?}",
                String::from_utf8_lossy(&reply)
            ));
        }
        answered += 1;
    }
    peer.disconnect_from_peer();
    eprintln!("{answered} message(s) echoed; closed");
    Ok(())
}

/// The next line of stdin, polling the connection while waiting; `None` at end of input.
fn next_line(
    lines: &Receiver<String>,
    peer: &mut PacketPeerDtls,
    stop: &AtomicBool,
) -> Result<Option<String>, String> {
    loop {
        match lines.recv_timeout(TICK) {
            Ok(line) => return Ok(Some(line)),
            Err(RecvTimeoutError::Disconnected) => return Ok(None),
            Err(RecvTimeoutError::Timeout) => {
                peer.poll();
                if stop.load(Ordering::SeqCst) {
                    peer.disconnect_from_peer();
                    return Err("interrupted; sent close_notify".into());
                }
                if peer.get_status() != DtlsStatus::Connected {
                    return Err(format!("connection lost: {}", failure(peer)));
                }
            }
        }
    }
}
