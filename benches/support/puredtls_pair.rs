//! The puredtls side of the benchmarks: configs made from the same OpenSSL-generated
//! [`Identity`] (P-256 key and self-signed certificate), and a sans-IO driver that runs the
//! cookie exchange and the full handshake in one thread, the way `openssl_dtls::Pair` does.
//!
//! Datagrams are copied out of each [`Output`] into recycled buffers (a `Wire`), like the
//! OpenSSL harness's `DatagramPipe`, so the driver itself allocates nothing once warm.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use puredtls::server::Accept;
use puredtls::{
    CertificateDer, ClientConfig, ClientSession, Endpoint, PrivateKey, Server,
    ServerCertVerification, ServerConfig, ServerSession, Status, TrustAnchors,
};

use crate::openssl_dtls::Identity;

/// The client's address as the server sees it (the in-memory link has none).
pub const PEER: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 40_000);

/// The server's config: `identity`'s key and certificate, only the AES-128-GCM suite, `mtu`.
pub fn server_config(identity: &Identity, mtu: usize) -> Arc<ServerConfig> {
    let key_der = identity.key.private_key_to_pkcs8().expect("PKCS#8");
    let key = PrivateKey::from_der(&key_der).expect("puredtls reads the OpenSSL key");
    let cert = CertificateDer(identity.cert.to_der().expect("certificate DER"));
    let mut config = ServerConfig::new(vec![cert], key).expect("server config");
    config.common.mtu = mtu;
    config.common.cipher_suites =
        vec![puredtls::suite::CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256];
    Arc::new(config)
}

/// The client's config: trusts `identity`'s certificate as its anchor and checks the chain
/// (no host name, as the OpenSSL client), offers only AES-128-GCM, `mtu`.
pub fn client_config(identity: &Identity, mtu: usize) -> Arc<ClientConfig> {
    let cert = CertificateDer(identity.cert.to_der().expect("certificate DER"));
    let anchors = TrustAnchors::from_certificates(&[cert]).expect("anchor");
    let mut config =
        ClientConfig::with_verification(ServerCertVerification::WebPki { anchors }, None);
    config.common.mtu = mtu;
    config.common.cipher_suites =
        vec![puredtls::suite::CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256];
    Arc::new(config)
}

/// Datagrams in flight in one direction, in reused buffers.
#[derive(Default)]
pub struct Wire {
    datagrams: Vec<Vec<u8>>,
    len: usize,
}

impl Wire {
    pub fn push(&mut self, datagram: &[u8]) {
        if self.len == self.datagrams.len() {
            self.datagrams.push(Vec::with_capacity(1500));
        }
        let buf = &mut self.datagrams[self.len];
        buf.clear();
        buf.extend_from_slice(datagram);
        self.len += 1;
    }

    pub fn extend<'a>(&mut self, datagrams: impl Iterator<Item = &'a [u8]>) {
        for d in datagrams {
            self.push(d);
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn get(&self, i: usize) -> &[u8] {
        &self.datagrams[..self.len][i]
    }

    pub fn clear(&mut self) {
        self.len = 0;
    }
}

/// The server end of a handshake: the front door until it hands out a session.
pub enum ServerEnd {
    FrontDoor,
    Session(Box<ServerSession>),
}

/// A client, the server's session and the datagrams between them.
pub struct Handshake {
    pub client: ClientSession,
    pub server: ServerEnd,
    to_server: Wire,
    to_client: Wire,
}

impl Handshake {
    /// The session, once the handshake created it.
    pub fn session(&mut self) -> &mut ServerSession {
        match &mut self.server {
            ServerEnd::Session(s) => s,
            ServerEnd::FrontDoor => panic!("no server session"),
        }
    }
}

/// Runs a full handshake with the cookie exchange: `ClientSession::new`, `Server::accept`
/// (HelloVerifyRequest, then the session), and `ServerSession::handle_datagram` until both
/// sides are connected. Returns the pair and the time spent in the server's calls
/// (`Server::accept`, `ServerSession::poll_output`, `ServerSession::handle_datagram`).
pub fn handshake(
    server: &mut Server,
    client_config: &Arc<ClientConfig>,
    now: Instant,
) -> (Handshake, Duration) {
    let client = ClientSession::new(Arc::clone(client_config), now).expect("client");
    let mut hs = Handshake {
        client,
        server: ServerEnd::FrontDoor,
        to_server: Wire::default(),
        to_client: Wire::default(),
    };
    let t = drive(server, &mut hs, now);
    (hs, t)
}

/// Drives `hs` to completion; the server's time.
pub fn drive(server: &mut Server, hs: &mut Handshake, now: Instant) -> Duration {
    let mut server_time = Duration::ZERO;
    hs.to_server.extend(hs.client.poll_output().transmits());
    for _ in 0..8 {
        hs.to_client.clear();
        for i in 0..hs.to_server.len() {
            let d = hs.to_server.get(i);
            let t = Instant::now();
            match &mut hs.server {
                ServerEnd::FrontDoor => match server.accept(now, PEER, d) {
                    Accept::HelloVerifyRequest(hvr) => hs.to_client.push(hvr),
                    Accept::NewSession(mut s) => {
                        hs.to_client.extend(s.poll_output().transmits());
                        hs.server = ServerEnd::Session(s);
                    }
                    Accept::Ignored(why) => panic!("front door ignored a datagram: {why:?}"),
                },
                ServerEnd::Session(s) => hs.to_client.extend(s.handle_datagram(now, d).transmits()),
            }
            server_time += t.elapsed();
        }
        hs.to_server.clear();
        for i in 0..hs.to_client.len() {
            let out = hs.client.handle_datagram(now, hs.to_client.get(i));
            hs.to_server.extend(out.transmits());
        }
        let server_connected = match &hs.server {
            ServerEnd::Session(s) => *s.status() == Status::Connected,
            ServerEnd::FrontDoor => false,
        };
        if server_connected && *hs.client.status() == Status::Connected {
            assert_eq!(
                hs.to_server.len(),
                0,
                "client still sending after the handshake"
            );
            return server_time;
        }
    }
    panic!(
        "puredtls handshake did not finish in 8 rounds: client {:?}",
        hs.client.status()
    );
}

/// An established pair: the handshake at `mtu`, then nothing in flight.
pub fn established(
    identity: &Identity,
    mtu: usize,
    now: Instant,
) -> (ClientSession, Box<ServerSession>) {
    let mut server = Server::new(server_config(identity, mtu)).expect("server");
    let (hs, _) = handshake(&mut server, &client_config(identity, mtu), now);
    match hs.server {
        ServerEnd::Session(s) => (hs.client, s),
        ServerEnd::FrontDoor => unreachable!("drive returns only once connected"),
    }
}

/// Sends `data` from client to server and returns how many bytes the server delivered.
pub fn client_to_server(
    client: &mut ClientSession,
    server: &mut ServerSession,
    data: &[u8],
    now: Instant,
) -> usize {
    let out = client.send(data).expect("send");
    let datagram = out.transmits().next().expect("one datagram");
    let got = server.handle_datagram(now, datagram);
    got.app_data().next().map_or(0, <[u8]>::len)
}

/// A client connected to an [`Endpoint`] (the session table), nothing in flight.
pub fn established_endpoint(
    identity: &Identity,
    mtu: usize,
    now: Instant,
) -> (ClientSession, Endpoint) {
    let mut endpoint = Endpoint::new(server_config(identity, mtu)).expect("endpoint");
    let mut client = ClientSession::new(client_config(identity, mtu), now).expect("client");
    let (mut to_server, mut to_client) = (Wire::default(), Wire::default());
    to_server.extend(client.poll_output().transmits());
    for _ in 0..8 {
        to_client.clear();
        for i in 0..to_server.len() {
            let out = endpoint.handle_datagram(now, PEER, to_server.get(i));
            for t in out.transmits() {
                to_client.push(out.datagram(t));
            }
        }
        to_server.clear();
        for i in 0..to_client.len() {
            to_server.extend(client.handle_datagram(now, to_client.get(i)).transmits());
        }
        let server_connected = endpoint
            .session(&PEER)
            .is_some_and(|s| *s.status() == Status::Connected);
        if server_connected && *client.status() == Status::Connected {
            return (client, endpoint);
        }
    }
    panic!("puredtls handshake through an Endpoint did not finish in 8 rounds");
}
