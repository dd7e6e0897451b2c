//! chatd's TLS listeners: text and IRC over TLS, passwords kept off plain
//! connections from other hosts, the handshake deadline, and reloading the
//! certificate on SIGHUP.

use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, TcpStream};
use std::path::{Path, PathBuf};

use chatd_tests::{Client, READ_TIMEOUT, Server, TLS_NAME, chatd};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls_pki_types::CertificateDer;

const PASSWORD: &str = "correct-horse-9";

/// A loopback address chatd treats as another host (only 127.0.0.1 and ::1
/// count as its own).
const ELSEWHERE: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

/// A certificate authority of the test's own and a server certificate it
/// issued for [`TLS_NAME`].
struct Issued {
    ca: CertificateDer<'static>,
    chain_pem: String,
    key_pem: String,
}

fn issue() -> Issued {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec![TLS_NAME.to_owned()]).unwrap().signed_by(&key, &ca).unwrap();
    Issued { ca: ca.der().clone(), chain_pem: leaf.pem(), key_pem: key.serialize_pem() }
}

/// Where chatd reads its certificate and key.
struct Files {
    _dir: tempfile::TempDir,
    cert: PathBuf,
    key: PathBuf,
}

impl Files {
    fn new(issued: &Issued) -> Files {
        let dir = tempfile::tempdir().unwrap();
        let files = Files { cert: dir.path().join("chain.pem"), key: dir.path().join("key.pem"), _dir: dir };
        files.write(issued);
        files
    }

    fn write(&self, issued: &Issued) {
        std::fs::write(&self.cert, &issued.chain_pem).unwrap();
        std::fs::write(&self.key, &issued.key_pem).unwrap();
    }
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 temporary path")
}

/// chatd with every TLS listener, on `files`, plus `extra` flags.
fn server(files: &Files, extra: &[&str]) -> Server {
    let mut args = vec![
        "--tls-cert",
        path(&files.cert),
        "--tls-key",
        path(&files.key),
        "--tls-listen",
        "127.0.0.1:0",
        "--irc-tls-listen",
        "127.0.0.1:0",
        "--https-listen",
        "127.0.0.1:0",
    ];
    args.extend_from_slice(extra);
    Server::start(chatd!(), &args)
}

#[test]
fn text_and_irc_clients_register_log_in_and_chat_over_tls() {
    let issued = issue();
    let files = Files::new(&issued);
    let server = server(&files, &[]);

    // From "another host": over TLS, passwords are welcome.
    let mut alice = Client::connect_tls(server.tls_addr(), &issued.ca, Some(ELSEWHERE));
    alice.expect_prefix("* Welcome to chatd, Guest");
    alice.send(&format!("/register alice {PASSWORD} {PASSWORD}"));
    alice.expect("* account alice registered; you are logged in");
    alice.expect("* you are now known as alice");
    alice.expect("* logged in as alice");
    alice.send("/quit");
    alice.expect("* bye: quit");
    alice.expect_eof();

    let mut alice = Client::connect_tls(server.tls_addr(), &issued.ca, Some(ELSEWHERE));
    alice.expect_prefix("* Welcome to chatd, Guest");
    alice.send(&format!("/login alice {PASSWORD}"));
    alice.expect("* you are now known as alice");
    alice.expect("* logged in as alice");
    alice.send("/create lounge");
    alice.expect("* room lounge created");
    alice.expect("* you are now in lounge (1 here)");

    let mut bob = Client::connect_tls(server.irc_tls_addr(), &issued.ca, Some(ELSEWHERE));
    bob.irc("NICK bob\r\nUSER bob 0 * :Bob");
    bob.until(" 422 ");
    bob.irc(&format!("PRIVMSG NickServ :REGISTER {PASSWORD}"));
    bob.until(":You are now logged in as bob");
    bob.irc("JOIN #lounge");
    bob.until(" 366 bob #lounge ");
    alice.expect("* bob joined lounge");
    let host = bob.host_of("alice");
    alice.send("hello over TLS");
    assert_eq!(bob.until("PRIVMSG #lounge"), format!(":alice!alice@{host} PRIVMSG #lounge :hello over TLS"));
    bob.irc("PRIVMSG #lounge :and back");
    alice.expect("[lounge] bob: and back");
}

#[test]
fn plain_connections_from_other_hosts_may_not_send_passwords() {
    let issued = issue();
    let files = Files::new(&issued);
    let server = server(&files, &[]);
    let tls_port = server.tls_addr().port();
    let irc_tls_port = server.irc_tls_addr().port();

    let mut remote = server.connect_from(ELSEWHERE);
    remote.expect_prefix("* Welcome to chatd, Guest");
    remote.send(&format!("/register carol {PASSWORD} {PASSWORD}"));
    remote.expect(&format!("! passwords are only accepted over TLS here; reconnect with TLS to port {tls_port}"));
    remote.send(&format!("/login carol {PASSWORD}"));
    remote.expect(&format!("! passwords are only accepted over TLS here; reconnect with TLS to port {tls_port}"));
    // The rest of chat is open to it.
    remote.send("/nick carol");
    remote.expect("* you are now known as carol");

    let mut irc = Client::connect_from(server.irc_addr(), ELSEWHERE);
    irc.irc("NICK dave\r\nUSER dave 0 * :Dave");
    irc.until(" 422 ");
    irc.irc(&format!("PRIVMSG NickServ :REGISTER {PASSWORD}"));
    let refused = irc.until("passwords are only accepted");
    assert!(refused.ends_with(&format!("reconnect with TLS to port {irc_tls_port}")), "{refused}");

    // This host itself may: its traffic never leaves the machine.
    let mut local = server.connect();
    local.expect_prefix("* Welcome to chatd, Guest");
    local.send(&format!("/register erin {PASSWORD} {PASSWORD}"));
    local.expect("* account erin registered; you are logged in");
}

#[test]
fn allow_plain_passwords_lets_other_hosts_log_in_in_the_clear() {
    let issued = issue();
    let files = Files::new(&issued);
    let server = server(&files, &["--allow-plain-passwords"]);
    let mut remote = server.connect_from(ELSEWHERE);
    remote.expect_prefix("* Welcome to chatd, Guest");
    remote.send(&format!("/register carol {PASSWORD} {PASSWORD}"));
    remote.expect("* account carol registered; you are logged in");
}

#[test]
fn a_handshake_that_never_finishes_is_cut() {
    let issued = issue();
    let files = Files::new(&issued);
    let server = server(&files, &["--tls-handshake-timeout", "0.2"]);
    let mut silent = TcpStream::connect(server.tls_addr()).unwrap();
    silent.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
    let mut buf = [0; 64];
    let got = silent.read(&mut buf);
    assert!(
        matches!(got, Ok(0)) || got.as_ref().is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionReset),
        "{got:?}"
    );
    server.wait_for_log("TLS handshake timed out");
    // The listener goes on serving.
    let mut next = Client::connect_tls(server.tls_addr(), &issued.ca, None);
    next.expect_prefix("* Welcome to chatd, Guest");
}

#[test]
fn sighup_serves_a_new_certificate_to_new_connections_and_keeps_it_over_a_bad_one() {
    let first = issue();
    let files = Files::new(&first);
    let server = server(&files, &[]);
    let mut old = Client::connect_tls(server.tls_addr(), &first.ca, None);
    old.expect_prefix("* Welcome to chatd, Guest");
    old.send("/nick old");
    old.expect("* you are now known as old");
    old.send("/create lounge");
    old.expect("* room lounge created");
    old.expect("* you are now in lounge (1 here)");

    let second = issue();
    files.write(&second);
    server.hangup();
    server.wait_for_log("TLS certificate reloaded");
    assert!(
        Client::try_connect_tls(server.tls_addr(), &first.ca, None).is_err(),
        "a new connection should get the new certificate, which the first authority did not issue"
    );
    let mut new = Client::connect_tls(server.tls_addr(), &second.ca, None);
    new.expect_prefix("* Welcome to chatd, Guest");
    new.send("/nick new");
    new.expect("* you are now known as new");
    new.send("/join lounge");
    new.expect("* you are now in lounge (2 here)");
    // The connection made before the reload goes on as it was.
    old.expect("* new joined lounge");
    old.send("still here");
    new.expect("[lounge] old: still here");

    std::fs::write(&files.cert, "-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n").unwrap();
    server.hangup();
    server.wait_for_log("TLS certificate NOT reloaded");
    let mut after = Client::connect_tls(server.tls_addr(), &second.ca, None);
    after.expect_prefix("* Welcome to chatd, Guest");
}

#[test]
fn https_serves_the_same_routes() {
    let issued = issue();
    let files = Files::new(&issued);
    let server = server(&files, &[]);
    let mut web = Client::connect_tls(server.https_addr(), &issued.ca, None);
    web.send_bytes(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assert_eq!(web.line().trim_end(), "HTTP/1.1 200 OK");
}

#[test]
fn behind_a_trusted_proxy_the_password_rule_follows_the_client_and_its_tls() {
    use chatd_tests::proxy::{Proxy, Says};
    let issued = issue();
    let files = Files::new(&issued);
    let server = server(&files, &["--trusted-proxy", "127.0.0.1"]);
    let tls_port = server.tls_addr().port();
    // The proxy is on this host, its client is not, and came in the clear.
    let plain = Proxy::start(server.addr(), Says::ProxyV1);
    let mut remote = Client::connect_from(plain.addr(), ELSEWHERE);
    remote.expect_prefix("* Welcome to chatd, Guest");
    remote.send(&format!("/register carol {PASSWORD} {PASSWORD}"));
    remote.expect(&format!("! passwords are only accepted over TLS here; reconnect with TLS to port {tls_port}"));
    // A proxy that took the client's TLS says so, and the password is safe.
    let terminating = Proxy::start(server.addr(), Says::ProxyV2 { tls: true });
    let mut secure = Client::connect_from(terminating.addr(), ELSEWHERE);
    secure.expect_prefix("* Welcome to chatd, Guest");
    secure.send(&format!("/register carol {PASSWORD} {PASSWORD}"));
    secure.expect("* account carol registered; you are logged in");
}
