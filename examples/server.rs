//! Godot's DTLS server example (`server_node.gd` in the `DTLSServer` class reference), ported
//! to puredtls: it accepts DTLS clients on port 4242, prints every message it gets and answers
//! each one with "Hello DTLS client".
//!
//! ```text
//! cargo run --example server                      # self-signed certificate, 127.0.0.1:4242
//! cargo run --example server -- --key key.pem --cert cert.pem --listen 127.0.0.1:4242
//! ```
//!
//! Without `--key`/`--cert` it generates a self-signed certificate and prints its SHA-256
//! fingerprint, to pin with `cargo run --example client -- --fingerprint <FP>`.
//!
//! Differences from the GDScript, each marked below: the server listens on 127.0.0.1 rather
//! than on every interface, `_process` calls `server.poll()` (which Godot's `UDPServer`
//! documentation asks for), and peers that disconnected are forgotten.

use std::net::SocketAddr;
use std::time::Duration;

use puredtls::cert::{fingerprint_sha256, generate_self_signed, load_certificates};
use puredtls::net::{DtlsServer, DtlsStatus, NetError, PacketPeerDtls, UdpServer};
use puredtls::{CertificateDer, PrivateKey};

/// The node of `server_node.gd`, with its three variables.
pub struct ServerNode {
    dtls: DtlsServer,
    server: UdpServer,
    peers: Vec<PacketPeerDtls>,
}

impl ServerNode {
    /// `_ready()`: listen, and set the DTLS server up with the key and certificate.
    pub fn ready(
        listen: SocketAddr,
        key: PrivateKey,
        cert: CertificateDer,
    ) -> Result<Self, NetError> {
        let mut server = UdpServer::new();
        // Godot: `server.listen(4242)`, every interface. The example stays on `listen`
        // (127.0.0.1:4242 unless told otherwise).
        server.listen_on(listen)?;
        let mut dtls = DtlsServer::new();
        dtls.setup(key, cert, Vec::new())?;
        Ok(Self {
            dtls,
            server,
            peers: Vec::new(),
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.server.local_addr()
    }

    /// `_process(delta)`: one frame. Returns the messages received in this frame, which it
    /// also prints.
    pub fn process(&mut self) -> Vec<String> {
        // Not in the GDScript: Godot's UDPServer docs call `poll()` "Important!".
        if let Err(e) = self.server.poll() {
            eprintln!("socket error: {e}");
        }
        while self.server.is_connection_available() {
            let Some(peer) = self.server.take_connection() else {
                break;
            };
            let dtls_peer = self.dtls.take_connection(peer);
            if dtls_peer.get_status() != DtlsStatus::Handshaking {
                // Godot: "It is normal that 50% of the connections fails due to cookie
                // exchange." Here only the first one can (see puredtls::net).
                continue;
            }
            println!("Peer connected!");
            self.peers.push(dtls_peer);
        }

        let mut received = Vec::new();
        for p in &mut self.peers {
            p.poll(); // Must poll to update the state.
            if p.get_status() == DtlsStatus::Connected {
                while p.get_available_packet_count() > 0 {
                    let Some(packet) = p.get_packet() else {
                        break;
                    };
                    let text = String::from_utf8_lossy(&packet).into_owned();
                    println!("Received message from client: {text}");
                    if let Err(e) = p.put_packet(b"Hello DTLS client") {
                        eprintln!("could not answer: {e}");
                    }
                    received.push(text);
                }
            }
        }
        // Not in the GDScript: forget peers that are gone, so the list does not grow forever.
        self.peers.retain(|p| {
            matches!(
                p.get_status(),
                DtlsStatus::Handshaking | DtlsStatus::Connected
            )
        });
        received
    }
}

struct Args {
    listen: SocketAddr,
    key: Option<String>,
    cert: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        listen: SocketAddr::from(([127, 0, 0, 1], 4242)),
        key: None,
        cert: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--listen" => {
                args.listen = value()?
                    .parse()
                    .map_err(|e| format!("--listen: {e} (use e.g. 127.0.0.1:4242)"))?
            }
            "--key" => args.key = Some(value()?),
            "--cert" => args.cert = Some(value()?),
            "-h" | "--help" => {
                return Err(
                    "usage: server [--listen 127.0.0.1:4242] [--key key.pem --cert cert.pem]"
                        .into(),
                )
            }
            other => return Err(format!("unknown argument {other}; try --help")),
        }
    }
    Ok(args)
}

fn credentials(args: &Args) -> Result<(PrivateKey, CertificateDer), String> {
    match (&args.key, &args.cert) {
        (Some(key), Some(cert)) => {
            let key_pem =
                std::fs::read_to_string(key).map_err(|e| format!("cannot read {key}: {e}"))?;
            let key = PrivateKey::from_pem(&key_pem).map_err(|e| format!("{key}: {e}"))?;
            let bytes = std::fs::read(cert).map_err(|e| format!("cannot read {cert}: {e}"))?;
            let mut certs = load_certificates(&bytes).map_err(|e| format!("{cert}: {e}"))?;
            Ok((key, certs.remove(0)))
        }
        (None, None) => {
            let (key, cert) =
                generate_self_signed(&["localhost", "127.0.0.1"]).map_err(|e| e.to_string())?;
            println!("Generated a self-signed certificate for localhost and 127.0.0.1.");
            println!("SHA-256 fingerprint: {}", fingerprint_sha256(&cert));
            Ok((key, cert))
        }
        _ => Err("give both --key and --cert, or neither for a self-signed certificate".into()),
    }
}

fn main() {
    let result = parse_args().and_then(|args| {
        let (key, cert) = credentials(&args)?;
        let node = ServerNode::ready(args.listen, key, cert).map_err(|e| e.to_string())?;
        Ok(node)
    });
    let mut node = match result {
        Ok(node) => node,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    if let Some(addr) = node.local_addr() {
        println!("Listening on {addr} (Ctrl-C to stop)");
    }
    loop {
        node.process();
        std::thread::sleep(Duration::from_millis(10)); // ~100 frames a second
    }
}
