//! Godot's DTLS client example (`client_node.gd` in the `DTLSServer` class reference), ported
//! to puredtls: it connects to 127.0.0.1:4242, sends "The answer is... 42!" until the server
//! answers, and prints the answer.
//!
//! ```text
//! cargo run --example client                      # accepts any certificate, as the GDScript
//! cargo run --example client -- --fingerprint AB:CD:...   # pins the server's certificate
//! cargo run --example client -- --server 127.0.0.1:4242
//! ```
//!
//! Differences from the GDScript: the udp peer moves into the DTLS peer (Rust ownership), and
//! `main` stops once the answer arrived (closing with close_notify) instead of running forever.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use puredtls::cert::parse_fingerprint;
use puredtls::net::{DtlsStatus, NetError, PacketPeerDtls, PacketPeerUdp};
use puredtls::{ClientConfig, ServerCertVerification};

/// The node of `client_node.gd`, with its variables.
pub struct ClientNode {
    dtls: PacketPeerDtls,
    connected: bool,
}

impl ClientNode {
    /// `_ready()`: connect the UDP peer, then start the DTLS handshake over it.
    ///
    /// With a `fingerprint`, the server's certificate must have that SHA-256 fingerprint;
    /// without, any certificate is accepted, as `connect_to_peer(udp, false)` does in Godot.
    pub fn ready(server: SocketAddr, fingerprint: Option<[u8; 32]>) -> Result<Self, NetError> {
        let mut udp = PacketPeerUdp::new();
        udp.connect_to_host(server)?;
        let mut dtls = PacketPeerDtls::new();
        match fingerprint {
            Some(fp) => {
                let config =
                    ClientConfig::with_verification(ServerCertVerification::PinnedSha256(fp), None);
                dtls.connect_to_peer_with_config(udp, Arc::new(config))?;
            }
            // Godot: "Use true in production for certificate validation!"
            None => dtls.connect_to_peer(udp, false, None, None)?,
        }
        Ok(Self {
            dtls,
            connected: false,
        })
    }

    /// `_process(delta)`: one frame. Returns the server's answers received in this frame,
    /// which it also prints.
    pub fn process(&mut self) -> Vec<String> {
        let mut answers = Vec::new();
        self.dtls.poll();
        if self.dtls.get_status() == DtlsStatus::Connected {
            if !self.connected {
                // Try to contact server
                if let Err(e) = self.dtls.put_packet(b"The answer is... 42!") {
                    eprintln!("could not send: {e}");
                }
            }
            while self.dtls.get_available_packet_count() > 0 {
                let Some(packet) = self.dtls.get_packet() else {
                    break;
                };
                let text = String::from_utf8_lossy(&packet).into_owned();
                println!("Connected: {text}");
                answers.push(text);
                self.connected = true;
            }
        }
        answers
    }

    pub fn is_connected(&self) -> bool {
        self.connected
    }

    pub fn status(&self) -> DtlsStatus {
        self.dtls.get_status()
    }

    /// Why the handshake failed, for the error message.
    pub fn failure(&self) -> String {
        match self.dtls.last_error() {
            Some(e) => e.to_string(),
            None => format!("status {:?}", self.dtls.get_status()),
        }
    }

    /// Sends close_notify.
    pub fn close(&mut self) {
        self.dtls.disconnect_from_peer();
    }
}

fn parse_args() -> Result<(SocketAddr, Option<[u8; 32]>), String> {
    let mut server = SocketAddr::from(([127, 0, 0, 1], 4242));
    let mut fingerprint = None;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--server" => {
                server = value()?
                    .parse()
                    .map_err(|e| format!("--server: {e} (use e.g. 127.0.0.1:4242)"))?
            }
            "--fingerprint" => {
                fingerprint =
                    Some(parse_fingerprint(&value()?).map_err(|e| format!("--fingerprint: {e}"))?)
            }
            "-h" | "--help" => {
                return Err(
                    "usage: client [--server 127.0.0.1:4242] [--fingerprint AB:CD:...]".into(),
                )
            }
            other => return Err(format!("unknown argument {other}; try --help")),
        }
    }
    Ok((server, fingerprint))
}

fn main() {
    let (server, fingerprint) = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    if fingerprint.is_none() {
        eprintln!("warning: accepting any server certificate; pass --fingerprint to pin it");
    }
    let mut node = match ClientNode::ready(server, fingerprint) {
        Ok(node) => node,
        Err(e) => {
            eprintln!("cannot start: {e}");
            std::process::exit(1);
        }
    };
    let start = Instant::now();
    while !node.is_connected() {
        if matches!(
            node.status(),
            DtlsStatus::Error | DtlsStatus::ErrorHostnameMismatch | DtlsStatus::Disconnected
        ) {
            eprintln!("connection to {server} failed: {}", node.failure());
            std::process::exit(1);
        }
        if start.elapsed() > Duration::from_secs(10) {
            eprintln!("no answer from {server} within 10 s; is the server example running?");
            std::process::exit(1);
        }
        node.process();
        std::thread::sleep(Duration::from_millis(10)); // ~100 frames a second
    }
    node.close();
}
