//! Interoperability with the `openssl` command line (OpenSSL 3), over real UDP sockets on
//! 127.0.0.1, through the `puredtls::net` adapter:
//!
//! - our server with `openssl s_client -dtls1_2` (both suites, data both ways, `-mtu 400` and
//!   our MTU 372 so both sides' flights fragment, RFC 5705 exporter, close_notify);
//! - our client with `openssl s_server -dtls1_2 -listen` (cookie exchange, both suites, small
//!   MTU, exporter), and our client refusing a wrong CA or a wrong name;
//! - client certificates both ways (separate section at the end).
//!
//! Every test is bounded in time and kills its `openssl` child on drop. Without `openssl` on
//! PATH the tests pass after printing why they did nothing (CI installs it).

use std::io::{Read, Write};
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use puredtls::cert::{load_certificates, CertificateError};
use puredtls::net::{DtlsServer, DtlsStatus, PacketPeerDtls, PacketPeerUdp, UdpServer};
use puredtls::suite::CipherSuite;
use puredtls::{
    CertificateDer, ClientAuth, ClientConfig, Error, PrivateKey, ServerCertVerification,
    ServerConfig, TrustAnchors,
};

/// Upper bound on any one wait in these tests.
const DEADLINE: Duration = Duration::from_secs(20);
/// `openssl -mtu` is the link MTU; ours is the UDP payload (28 bytes of IPv4 + UDP headers).
const OPENSSL_MTU: usize = 400;
const OUR_MTU: usize = OPENSSL_MTU - 28;
const EXPORTER_LABEL: &str = "EXPERIMENTAL-puredtls-interop";

const AES128: (&str, CipherSuite) = (
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
);
const AES256: (&str, CipherSuite) = (
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
);

fn openssl_available() -> bool {
    let found = Command::new("openssl")
        .arg("version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        eprintln!("SKIPPED: `openssl` is not on PATH; install it to run the interop tests");
    }
    found
}

/// Prints how long a test took (shown with `--nocapture`).
struct Timer(&'static str, Instant);

impl Timer {
    fn start(name: &'static str) -> Self {
        Self(name, Instant::now())
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        eprintln!("[timing] {}: {} ms", self.0, self.1.elapsed().as_millis());
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A P-256 key (PKCS#8 PEM) and self-signed certificate made by `openssl`, in `dir`.
struct Credentials {
    key: PathBuf,
    cert: PathBuf,
}

impl Credentials {
    fn generate(dir: &Path, name: &str, subject: &str, san: Option<&str>) -> Self {
        let key = format!("{name}.key");
        let cert = format!("{name}.crt");
        openssl(
            dir,
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
                &key,
            ],
        );
        let mut args = vec![
            "req", "-new", "-x509", "-key", &key, "-subj", subject, "-days", "30", "-out", &cert,
        ];
        let ext;
        if let Some(san) = san {
            ext = format!("subjectAltName={san}");
            args.extend(["-addext", &ext]);
        }
        openssl(dir, &args);
        Self {
            key: dir.join(key),
            cert: dir.join(cert),
        }
    }

    /// The server credentials of INTEROP.md: CN=localhost, SAN DNS:localhost, IP:127.0.0.1.
    fn server(dir: &Path) -> Self {
        Self::generate(
            dir,
            "server",
            "/CN=localhost",
            Some("DNS:localhost,IP:127.0.0.1"),
        )
    }

    fn private_key(&self) -> PrivateKey {
        PrivateKey::from_pem(&std::fs::read_to_string(&self.key).unwrap()).unwrap()
    }

    fn certificate(&self) -> CertificateDer {
        load_certificates(&std::fs::read(&self.cert).unwrap())
            .unwrap()
            .remove(0)
    }

    fn anchors(&self) -> TrustAnchors {
        TrustAnchors::from_pem(&std::fs::read(&self.cert).unwrap()).unwrap()
    }

    fn key_str(&self) -> &str {
        self.key.to_str().unwrap()
    }

    fn cert_str(&self) -> &str {
        self.cert.to_str().unwrap()
    }
}

/// A free UDP port on 127.0.0.1 (bound once, then released for the child to take).
fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An `openssl` child with piped stdio, killed on drop.
struct OpenSsl {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Collected,
    stderr: Collected,
}

/// Output read so far, and whether the pipe reached end of file.
type Collected = Arc<Mutex<(Vec<u8>, bool)>>;

fn collect(mut from: impl Read + Send + 'static) -> Collected {
    let buf = Arc::new(Mutex::new((Vec::new(), false)));
    let sink = Arc::clone(&buf);
    std::thread::spawn(move || {
        let mut chunk = [0u8; 4096];
        while let Ok(n) = from.read(&mut chunk) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().0.extend_from_slice(&chunk[..n]);
        }
        sink.lock().unwrap().1 = true;
    });
    buf
}

impl OpenSsl {
    fn spawn(args: &[&str]) -> Self {
        let mut child = Command::new("openssl")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn openssl");
        let stdin = child.stdin.take();
        let stdout = collect(child.stdout.take().unwrap());
        let stderr = collect(child.stderr.take().unwrap());
        Self {
            child,
            stdin,
            stdout,
            stderr,
        }
    }

    fn write(&mut self, data: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin still open");
        stdin.write_all(data).unwrap();
        stdin.flush().unwrap();
    }

    /// EOF on stdin: `s_client` then sends close_notify and exits.
    fn close_stdin(&mut self) {
        self.stdin = None;
    }

    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.stdout.lock().unwrap().0).into_owned()
    }

    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap().0).into_owned()
    }

    /// The exit status once the process ended and all its output was read.
    fn exited(&mut self) -> Option<ExitStatus> {
        let status = self.child.try_wait().unwrap()?;
        let drained = self.stdout.lock().unwrap().1 && self.stderr.lock().unwrap().1;
        drained.then_some(status)
    }

    fn describe(&self) -> String {
        format!(
            "openssl stdout:\n{}\nopenssl stderr:\n{}",
            self.stdout(),
            self.stderr()
        )
    }
}

impl Drop for OpenSsl {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The 20-byte value after "Keying material:" in openssl's output.
fn keying_material(output: &str) -> Option<Vec<u8>> {
    let line = output
        .lines()
        .find_map(|l| l.trim().strip_prefix("Keying material:"))?;
    hex::decode(line.trim()).ok()
}

/// Calls `step` until it returns `Ok`; after the deadline, panics with the context of its last
/// `Err`.
fn until(mut step: impl FnMut() -> Result<(), String>) {
    let start = Instant::now();
    while let Err(context) = step() {
        assert!(
            start.elapsed() < DEADLINE,
            "timed out after {DEADLINE:?}\n{context}"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn done(condition: bool, context: impl FnOnce() -> String) -> Result<(), String> {
    if condition {
        Ok(())
    } else {
        Err(context())
    }
}

/// What our server saw of one connection, captured once it connected.
#[derive(Debug, Clone)]
struct Seen {
    suite: Option<CipherSuite>,
    exporter: Vec<u8>,
    peer_certificates: Vec<CertificateDer>,
}

/// Our echo server: `UdpServer` + `DtlsServer`, driven from the test thread.
struct OurServer {
    udp: UdpServer,
    dtls: DtlsServer,
    peers: Vec<(PacketPeerDtls, Option<Seen>)>,
    received: Vec<u8>,
}

impl OurServer {
    fn new(config: ServerConfig, port: u16) -> Self {
        let mut udp = UdpServer::new();
        udp.listen_on(("127.0.0.1", port)).unwrap();
        let mut dtls = DtlsServer::new();
        dtls.setup_with_config(Arc::new(config)).unwrap();
        Self {
            udp,
            dtls,
            peers: Vec::new(),
            received: Vec::new(),
        }
    }

    fn step(&mut self) {
        self.udp.poll().unwrap();
        while let Some(udp) = self.udp.take_connection() {
            let peer = self.dtls.take_connection(udp);
            if peer.get_status() == DtlsStatus::Handshaking {
                self.peers.push((peer, None));
            }
        }
        for (p, seen) in &mut self.peers {
            p.poll();
            if p.get_status() == DtlsStatus::Connected && seen.is_none() {
                let mut exporter = vec![0u8; 20];
                p.export_keying_material(EXPORTER_LABEL.as_bytes(), None, &mut exporter)
                    .unwrap();
                *seen = Some(Seen {
                    suite: p.cipher_suite(),
                    exporter,
                    peer_certificates: p.peer_certificates(),
                });
            }
            while let Some(packet) = p.get_packet() {
                self.received.extend_from_slice(&packet);
                p.put_packet(&packet).unwrap();
            }
        }
    }

    fn seen(&self) -> Option<Seen> {
        self.peers.iter().find_map(|(_, s)| s.clone())
    }

    fn statuses(&self) -> Vec<DtlsStatus> {
        self.peers.iter().map(|(p, _)| p.get_status()).collect()
    }

    fn errors(&self) -> Vec<Error> {
        self.peers
            .iter()
            .filter_map(|(p, _)| p.last_error())
            .collect()
    }
}

fn server_config(creds: &Credentials, suite: CipherSuite) -> ServerConfig {
    let mut config = ServerConfig::new(vec![creds.certificate()], creds.private_key()).unwrap();
    config.common.mtu = OUR_MTU;
    config.common.cipher_suites = vec![suite];
    config
}

fn s_client_args<'a>(port: &'a str, cipher: &'a str, ca: &'a str) -> Vec<&'a str> {
    vec![
        "s_client",
        "-dtls1_2",
        "-connect",
        port,
        "-cipher",
        cipher,
        "-mtu",
        "400",
        "-CAfile",
        ca,
        "-verify_return_error",
        "-verify_hostname",
        "localhost",
        "-keymatexport",
        EXPORTER_LABEL,
        "-keymatexportlen",
        "20",
        "-nocommands",
    ]
}

/// Our server, `openssl s_client` verifying it: handshake with fragmented flights both ways,
/// one message each way, the exporter, then close_notify from openssl.
fn our_server_with_s_client(creds: &Credentials, (cipher, suite): (&str, CipherSuite)) {
    let cert = creds.certificate();
    // The Certificate message alone exceeds our MTU, so our flight must be fragmented.
    assert!(cert.as_bytes().len() + 12 + 6 > OUR_MTU);
    let port = free_port();
    let mut server = OurServer::new(server_config(creds, suite), port);
    let connect = format!("127.0.0.1:{port}");
    let mut client = OpenSsl::spawn(&s_client_args(&connect, cipher, creds.cert_str()));
    let message = "data: hello from openssl s_client\n";
    client.write(message.as_bytes());

    until(|| {
        server.step();
        done(client.stdout().contains(message.trim_end()), || {
            format!(
                "server peers {:?}\n{}",
                server.statuses(),
                client.describe()
            )
        })
    });
    assert_eq!(server.received, message.as_bytes());
    let out = client.stdout();
    assert!(out.contains("Verification: OK"), "{out}");
    assert!(out.contains(&format!("Cipher is {cipher}")), "{out}");
    let seen = server.seen().expect("the server saw the connection");
    assert_eq!(seen.suite, Some(suite));
    assert_eq!(
        keying_material(&out).expect("openssl printed the keying material"),
        seen.exporter,
        "RFC 5705 exporter ({EXPORTER_LABEL}, 20 bytes) differs"
    );

    client.close_stdin();
    until(|| {
        server.step();
        done(
            server.statuses() == [DtlsStatus::Disconnected] && client.exited().is_some(),
            || {
                format!(
                    "server peers {:?}\n{}",
                    server.statuses(),
                    client.describe()
                )
            },
        )
    });
    assert!(client.exited().unwrap().success(), "{}", client.describe());
}

#[test]
fn our_server_with_openssl_client_aes128_gcm() {
    if !openssl_available() {
        return;
    }
    let _t = Timer::start("our_server_with_openssl_client_aes128_gcm");
    let dir = tempfile::tempdir().unwrap();
    our_server_with_s_client(&Credentials::server(dir.path()), AES128);
}

#[test]
fn our_server_with_openssl_client_aes256_gcm_and_sec1_key() {
    if !openssl_available() {
        return;
    }
    let _t = Timer::start("our_server_with_openssl_client_aes256_gcm_and_sec1_key");
    let dir = tempfile::tempdir().unwrap();
    let mut creds = Credentials::server(dir.path());
    // The SEC1 "EC PRIVATE KEY" form of the same key.
    openssl(
        dir.path(),
        &["ec", "-in", "server.key", "-out", "server.sec1.pem"],
    );
    creds.key = dir.path().join("server.sec1.pem");
    assert!(std::fs::read_to_string(&creds.key)
        .unwrap()
        .contains("BEGIN EC PRIVATE KEY"));
    our_server_with_s_client(&creds, AES256);
}

/// Starts `openssl s_server -listen` and waits until it holds the port.
fn s_server(port: u16, extra: &[&str]) -> OpenSsl {
    let accept = format!("127.0.0.1:{port}");
    let mut args = vec!["s_server", "-dtls1_2", "-listen", "-accept", &accept];
    args.extend_from_slice(extra);
    let mut server = OpenSsl::spawn(&args);
    until(|| {
        let bound = match UdpSocket::bind(("127.0.0.1", port)) {
            Err(e) => e.kind() == std::io::ErrorKind::AddrInUse,
            Ok(_) => false,
        };
        done(bound || server.exited().is_some(), || {
            format!("s_server did not bind its port\n{}", server.describe())
        })
    });
    assert!(server.exited().is_none(), "{}", server.describe());
    server
}

fn our_client(port: u16, config: ClientConfig) -> PacketPeerDtls {
    let mut udp = PacketPeerUdp::new();
    udp.connect_to_host(("127.0.0.1", port)).unwrap();
    let mut dtls = PacketPeerDtls::new();
    dtls.connect_to_peer_with_config(udp, Arc::new(config))
        .unwrap();
    dtls
}

fn handshake(client: &mut PacketPeerDtls, server: &mut OpenSsl) {
    until(|| {
        client.poll();
        done(client.get_status() != DtlsStatus::Handshaking, || {
            server.describe()
        })
    });
    assert_eq!(
        client.get_status(),
        DtlsStatus::Connected,
        "{:?}\n{}",
        client.last_error(),
        server.describe()
    );
}

/// Our client, `openssl s_server -listen` (cookie exchange): verify the server, one message
/// each way, the exporter.
fn our_client_with_s_server((cipher, suite): (&str, CipherSuite)) {
    let dir = tempfile::tempdir().unwrap();
    let creds = Credentials::server(dir.path());
    let port = free_port();
    let mut server = s_server(
        port,
        &[
            "-cert",
            creds.cert_str(),
            "-key",
            creds.key_str(),
            "-cipher",
            cipher,
            "-mtu",
            "400",
            "-keymatexport",
            EXPORTER_LABEL,
            "-keymatexportlen",
            "20",
        ],
    );
    let mut config = ClientConfig::new(creds.anchors(), "localhost");
    config.common.mtu = OUR_MTU;
    let mut client = our_client(port, config);
    handshake(&mut client, &mut server);
    assert_eq!(client.cipher_suite(), Some(suite));
    assert_eq!(client.peer_certificates(), vec![creds.certificate()]);
    assert_eq!(
        client.client_stats().map(|s| s.hello_verify_requests),
        Some(1),
        "s_server -listen made us do the cookie exchange"
    );

    let to_server = "data: hello from puredtls\n";
    client.put_packet(to_server.as_bytes()).unwrap();
    until(|| done(server.stdout().contains(to_server), || server.describe()));
    let mut exporter = [0u8; 20];
    client
        .export_keying_material(EXPORTER_LABEL.as_bytes(), None, &mut exporter)
        .unwrap();
    assert_eq!(
        keying_material(&server.stdout()).expect("s_server printed the keying material"),
        exporter,
        "RFC 5705 exporter ({EXPORTER_LABEL}, 20 bytes) differs"
    );

    let to_client = "data: hello from openssl s_server\n";
    server.write(to_client.as_bytes());
    until(|| {
        client.poll();
        done(client.get_available_packet_count() > 0, || {
            server.describe()
        })
    });
    assert_eq!(client.get_packet().unwrap(), to_client.as_bytes());
    client.disconnect_from_peer();
}

#[test]
fn our_client_with_openssl_server_aes128_gcm() {
    if !openssl_available() {
        return;
    }
    let _t = Timer::start("our_client_with_openssl_server_aes128_gcm");
    our_client_with_s_server(AES128);
}

#[test]
fn our_client_with_openssl_server_aes256_gcm() {
    if !openssl_available() {
        return;
    }
    let _t = Timer::start("our_client_with_openssl_server_aes256_gcm");
    our_client_with_s_server(AES256);
}

/// Our client against a plain `s_server` whose certificate it must refuse.
fn refused_by_our_client(config: ClientConfig) -> (DtlsStatus, Option<Error>) {
    let dir = tempfile::tempdir().unwrap();
    let creds = Credentials::server(dir.path());
    let port = free_port();
    let server = s_server(
        port,
        &["-cert", creds.cert_str(), "-key", creds.key_str(), "-quiet"],
    );
    let config = config_with_anchors(config, &creds);
    let mut client = our_client(port, config);
    until(|| {
        client.poll();
        done(client.get_status() != DtlsStatus::Handshaking, || {
            server.describe()
        })
    });
    (client.get_status(), client.last_error())
}

/// Fills in the anchors when the test wants the right ones (`WebPki` with no anchors).
fn config_with_anchors(mut config: ClientConfig, creds: &Credentials) -> ClientConfig {
    if let ServerCertVerification::WebPki { anchors } = &config.verification {
        if anchors.is_empty() {
            config.verification = ServerCertVerification::WebPki {
                anchors: creds.anchors(),
            };
        }
    }
    config
}

#[test]
fn our_client_refuses_openssl_server_from_an_unknown_ca() {
    if !openssl_available() {
        return;
    }
    let _t = Timer::start("our_client_refuses_openssl_server_from_an_unknown_ca");
    let dir = tempfile::tempdir().unwrap();
    let other = Credentials::generate(dir.path(), "other-ca", "/CN=Some Other CA", None);
    let (status, error) = refused_by_our_client(ClientConfig::new(other.anchors(), "localhost"));
    assert_eq!(status, DtlsStatus::Error);
    assert_eq!(
        error,
        Some(Error::Certificate(CertificateError::UnknownIssuer))
    );
}

#[test]
fn our_client_refuses_openssl_server_for_a_wrong_name() {
    if !openssl_available() {
        return;
    }
    let _t = Timer::start("our_client_refuses_openssl_server_for_a_wrong_name");
    let (status, error) =
        refused_by_our_client(ClientConfig::new(TrustAnchors::new(), "wrong.example"));
    assert_eq!(status, DtlsStatus::ErrorHostnameMismatch);
    match error {
        Some(Error::Certificate(CertificateError::NameMismatch {
            expected,
            presented,
        })) => {
            assert_eq!(expected, "wrong.example");
            assert_eq!(presented, vec!["DNS:localhost", "IP:127.0.0.1"]);
        }
        other => panic!("expected NameMismatch, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Client certificates (the certificates issue).
// ---------------------------------------------------------------------------------------------

fn client_credentials(dir: &Path) -> Credentials {
    Credentials::generate(dir, "client", "/CN=puredtls test client", None)
}

#[test]
fn our_server_requires_and_verifies_openssl_client_certificate() {
    if !openssl_available() {
        return;
    }
    let _t = Timer::start("our_server_requires_and_verifies_openssl_client_certificate");
    let dir = tempfile::tempdir().unwrap();
    let creds = Credentials::server(dir.path());
    let client_creds = client_credentials(dir.path());
    let mut config = server_config(&creds, AES128.1);
    config.client_auth = ClientAuth::Required(ServerCertVerification::WebPki {
        anchors: client_creds.anchors(),
    });
    let port = free_port();
    let mut server = OurServer::new(config, port);
    let connect = format!("127.0.0.1:{port}");
    let mut args = s_client_args(&connect, AES128.0, creds.cert_str());
    args.extend([
        "-cert",
        client_creds.cert_str(),
        "-key",
        client_creds.key_str(),
    ]);
    let mut client = OpenSsl::spawn(&args);
    let message = "data: with a client certificate\n";
    client.write(message.as_bytes());
    until(|| {
        server.step();
        done(client.stdout().contains(message.trim_end()), || {
            format!(
                "server peers {:?}\n{}",
                server.statuses(),
                client.describe()
            )
        })
    });
    let seen = server.seen().unwrap();
    assert_eq!(seen.peer_certificates, vec![client_creds.certificate()]);
    assert_eq!(server.received, message.as_bytes());
}

#[test]
fn our_server_refuses_openssl_client_without_certificate() {
    if !openssl_available() {
        return;
    }
    let _t = Timer::start("our_server_refuses_openssl_client_without_certificate");
    let dir = tempfile::tempdir().unwrap();
    let creds = Credentials::server(dir.path());
    let client_creds = client_credentials(dir.path());
    let mut config = server_config(&creds, AES128.1);
    config.client_auth = ClientAuth::Required(ServerCertVerification::WebPki {
        anchors: client_creds.anchors(),
    });
    let port = free_port();
    let mut server = OurServer::new(config, port);
    let connect = format!("127.0.0.1:{port}");
    let mut client = OpenSsl::spawn(&s_client_args(&connect, AES128.0, creds.cert_str()));
    client.write(b"data: never delivered\n");
    until(|| {
        server.step();
        done(
            server.statuses().contains(&DtlsStatus::Error) && client.exited().is_some(),
            || {
                format!(
                    "server peers {:?}\n{}",
                    server.statuses(),
                    client.describe()
                )
            },
        )
    });
    assert_eq!(server.errors(), vec![Error::CertificateRequired]);
    assert!(server.received.is_empty());
    assert!(!client.exited().unwrap().success());
}

#[test]
fn our_client_presents_its_certificate_to_openssl_server() {
    if !openssl_available() {
        return;
    }
    let _t = Timer::start("our_client_presents_its_certificate_to_openssl_server");
    let dir = tempfile::tempdir().unwrap();
    let creds = Credentials::server(dir.path());
    let client_creds = client_credentials(dir.path());
    let port = free_port();
    let mut server = s_server(
        port,
        &[
            "-cert",
            creds.cert_str(),
            "-key",
            creds.key_str(),
            "-Verify",
            "1",
            "-verify_return_error",
            "-CAfile",
            client_creds.cert_str(),
            "-quiet",
        ],
    );
    let config = ClientConfig::new(creds.anchors(), "localhost")
        .with_client_certificate(vec![client_creds.certificate()], client_creds.private_key())
        .unwrap();
    let mut client = our_client(port, config);
    handshake(&mut client, &mut server);
    let to_server = "data: authenticated client\n";
    client.put_packet(to_server.as_bytes()).unwrap();
    until(|| done(server.stdout().contains(to_server), || server.describe()));
    server.write(b"data: welcome\n");
    until(|| {
        client.poll();
        done(client.get_available_packet_count() > 0, || {
            server.describe()
        })
    });
    assert_eq!(client.get_packet().unwrap(), b"data: welcome\n");
}

#[test]
fn openssl_server_refuses_our_client_without_certificate() {
    if !openssl_available() {
        return;
    }
    let _t = Timer::start("openssl_server_refuses_our_client_without_certificate");
    let dir = tempfile::tempdir().unwrap();
    let creds = Credentials::server(dir.path());
    let client_creds = client_credentials(dir.path());
    let port = free_port();
    let server = s_server(
        port,
        &[
            "-cert",
            creds.cert_str(),
            "-key",
            creds.key_str(),
            "-Verify",
            "1",
            "-verify_return_error",
            "-CAfile",
            client_creds.cert_str(),
            "-quiet",
        ],
    );
    let mut client = our_client(port, ClientConfig::new(creds.anchors(), "localhost"));
    until(|| {
        client.poll();
        done(client.get_status() != DtlsStatus::Handshaking, || {
            server.describe()
        })
    });
    assert_eq!(client.get_status(), DtlsStatus::Error);
    assert!(
        matches!(client.last_error(), Some(Error::AlertReceived(_))),
        "{:?}",
        client.last_error()
    );
}

// ---------------------------------------------------------------------------------------------
// The `puredtls` command-line tool (built with `--features cli`).
// ---------------------------------------------------------------------------------------------

#[cfg(feature = "cli")]
mod cli {
    use super::*;

    /// A `puredtls` child process, killed on drop.
    struct Tool(OpenSsl);

    impl Tool {
        fn spawn(args: &[&str]) -> Self {
            let mut child = Command::new(env!("CARGO_BIN_EXE_puredtls"))
                .args(args)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn puredtls");
            let stdin = child.stdin.take();
            let stdout = collect(child.stdout.take().unwrap());
            let stderr = collect(child.stderr.take().unwrap());
            Self(OpenSsl {
                child,
                stdin,
                stdout,
                stderr,
            })
        }

        fn wait_exit(&mut self) -> ExitStatus {
            let mut status = None;
            until(|| {
                status = self.0.exited();
                done(status.is_some(), || self.0.describe())
            });
            status.unwrap()
        }

        fn interrupt(&self) {
            let pid = self.0.child.id().to_string();
            let ok = Command::new("kill")
                .args(["-INT", &pid])
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "kill -INT {pid}");
        }
    }

    fn cli_server(creds: &Credentials, port: u16) -> Tool {
        let listen = format!("127.0.0.1:{port}");
        let mut server = Tool::spawn(&[
            "server",
            "--listen",
            &listen,
            "--echo",
            "--cert",
            creds.cert_str(),
            "--key",
            creds.key_str(),
            "--mtu",
            "372",
        ]);
        until(|| {
            done(server.0.stderr().contains("listening on"), || {
                server.0.describe()
            })
        });
        server.0.close_stdin();
        server
    }

    #[test]
    fn cli_server_echoes_openssl_client_and_closes_it_on_ctrl_c() {
        if !openssl_available() {
            return;
        }
        let _t = Timer::start("cli_server_echoes_openssl_client_and_closes_it_on_ctrl_c");
        let dir = tempfile::tempdir().unwrap();
        let creds = Credentials::server(dir.path());
        let port = free_port();
        let mut server = cli_server(&creds, port);
        let connect = format!("127.0.0.1:{port}");
        let mut client = OpenSsl::spawn(&s_client_args(&connect, AES256.0, creds.cert_str()));
        client.write(b"data: through the cli\n");
        until(|| {
            done(client.stdout().contains("data: through the cli"), || {
                format!("{}\n{}", server.0.describe(), client.describe())
            })
        });
        until(|| {
            done(server.0.stdout() == "data: through the cli\n", || {
                server.0.describe()
            })
        });
        assert!(server
            .0
            .stderr()
            .contains("connected (TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384)"));
        // Ctrl-C: the server sends close_notify, so s_client ends on its own.
        server.interrupt();
        assert!(server.wait_exit().success(), "{}", server.0.describe());
        until(|| done(client.exited().is_some(), || client.describe()));
        assert!(server
            .0
            .stderr()
            .contains("stopping: closing 1 connection(s)"));
    }

    #[test]
    fn cli_client_gets_every_echo_from_cli_server() {
        if !openssl_available() {
            return;
        }
        let _t = Timer::start("cli_client_gets_every_echo_from_cli_server");
        let dir = tempfile::tempdir().unwrap();
        let creds = Credentials::server(dir.path());
        let port = free_port();
        let _server = cli_server(&creds, port);
        let addr = format!("127.0.0.1:{port}");
        let mut client = Tool::spawn(&[
            "client",
            &addr,
            "--ca",
            creds.cert_str(),
            "--server-name",
            "localhost",
            "--mtu",
            "372",
            "--message",
            "first",
            "--message",
            "second",
            "--count",
            "3",
        ]);
        assert!(client.wait_exit().success(), "{}", client.0.describe());
        assert_eq!(
            client.0.stdout(),
            "first\nsecond\nfirst\nsecond\nfirst\nsecond\n"
        );
        assert!(client
            .0
            .stderr()
            .contains("(TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)"));
    }

    #[test]
    fn cli_client_fails_with_a_clear_message_on_a_wrong_name() {
        if !openssl_available() {
            return;
        }
        let _t = Timer::start("cli_client_fails_with_a_clear_message_on_a_wrong_name");
        let dir = tempfile::tempdir().unwrap();
        let creds = Credentials::server(dir.path());
        let port = free_port();
        let _server = cli_server(&creds, port);
        let addr = format!("127.0.0.1:{port}");
        let mut client = Tool::spawn(&[
            "client",
            &addr,
            "--ca",
            creds.cert_str(),
            "--server-name",
            "wrong.example",
            "--message",
            "x",
        ]);
        assert_eq!(client.wait_exit().code(), Some(1));
        assert!(
            client
                .0
                .stderr()
                .contains("the certificate is not valid for wrong.example"),
            "{}",
            client.0.describe()
        );
        assert_eq!(client.0.stdout(), "");
    }

    #[test]
    fn cli_server_requires_a_client_certificate_from_cli_client() {
        if !openssl_available() {
            return;
        }
        let _t = Timer::start("cli_server_requires_a_client_certificate_from_cli_client");
        let dir = tempfile::tempdir().unwrap();
        let creds = Credentials::server(dir.path());
        let client_creds = client_credentials(dir.path());
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let mut server = Tool::spawn(&[
            "server",
            "--listen",
            &listen,
            "--echo",
            "--cert",
            creds.cert_str(),
            "--key",
            creds.key_str(),
            "--ca",
            client_creds.cert_str(),
            "--require-client-cert",
        ]);
        until(|| {
            done(server.0.stderr().contains("listening on"), || {
                server.0.describe()
            })
        });
        server.0.close_stdin();

        let mut with_cert = Tool::spawn(&[
            "client",
            &listen,
            "--ca",
            creds.cert_str(),
            "--cert",
            client_creds.cert_str(),
            "--key",
            client_creds.key_str(),
            "--message",
            "signed in",
        ]);
        assert!(
            with_cert.wait_exit().success(),
            "{}",
            with_cert.0.describe()
        );
        assert_eq!(with_cert.0.stdout(), "signed in\n");

        let mut without = Tool::spawn(&[
            "client",
            &listen,
            "--ca",
            creds.cert_str(),
            "--message",
            "x",
        ]);
        assert_eq!(
            without.wait_exit().code(),
            Some(1),
            "{}",
            without.0.describe()
        );
        assert!(
            without
                .0
                .stderr()
                .contains("if the server requires a client certificate, pass --cert and --key"),
            "{}",
            without.0.describe()
        );
        until(|| {
            done(
                server
                    .0
                    .stderr()
                    .contains("failed: a client certificate is required and the client sent none"),
                || server.0.describe(),
            )
        });
    }
}
