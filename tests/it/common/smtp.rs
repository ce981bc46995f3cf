//! A small SMTP server on loopback for the mail tests: it speaks EHLO/HELO, MAIL, RCPT, DATA,
//! RSET, NOOP and QUIT, records every accepted message, and can be told to answer 4xx, to
//! refuse given recipients with 5xx, or to stop listening (connections refused). It can also
//! speak STARTTLS or implicit TLS with a certificate from a test CA made on the spot. lettre is
//! the real client; nothing of it is mocked.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

/// A message as the server received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The DATA section, dot-unstuffed, without the final `.` line.
    pub data: Vec<u8>,
    /// It came over TLS.
    pub tls: bool,
}

impl Received {
    /// The message parsed as MIME.
    pub fn parsed(&self) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default()
            .parse(&self.data)
            .expect("a parseable MIME message")
    }
}

/// How the server answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Accept,
    /// `451` to MAIL FROM: a transient failure.
    TempFail,
}

#[derive(Default)]
struct Shared {
    messages: Vec<Received>,
    mode: Option<Mode>,
    /// Recipients refused with `550` (a permanent failure).
    refused: Vec<String>,
    connections: usize,
}

/// How connections are secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    Plain,
    /// Offers STARTTLS after EHLO.
    StartTls,
    /// TLS from the first byte (`smtps://`).
    Implicit,
}

pub struct SmtpServer {
    pub port: u16,
    shared: Arc<Mutex<Shared>>,
    stop: Mutex<Option<(oneshot::Sender<()>, oneshot::Receiver<()>)>>,
    security: Security,
    tls: Option<(TlsAcceptor, String)>,
}

impl SmtpServer {
    /// Starts listening on a free loopback port, without TLS.
    pub async fn start() -> Self {
        Self::start_with(Security::Plain).await
    }

    pub async fn start_with(security: Security) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = SmtpServer {
            port,
            shared: Arc::default(),
            stop: Mutex::new(None),
            security,
            tls: (security != Security::Plain).then(test_certificate),
        };
        server.serve(listener);
        server
    }

    /// The `SMTP_URL` of this server.
    pub fn url(&self) -> String {
        match self.security {
            Security::Plain => format!("smtp://127.0.0.1:{}?tls=none", self.port),
            Security::StartTls => format!("smtp://127.0.0.1:{}?tls=starttls", self.port),
            Security::Implicit => format!("smtps://127.0.0.1:{}", self.port),
        }
    }

    /// The PEM of the CA that signed this server's certificate (for `SMTP_CA_FILE`).
    pub fn ca_pem(&self) -> &str {
        &self.tls.as_ref().expect("a TLS server").1
    }

    pub fn messages(&self) -> Vec<Received> {
        self.shared.lock().unwrap().messages.clone()
    }

    pub fn connections(&self) -> usize {
        self.shared.lock().unwrap().connections
    }

    pub fn set_mode(&self, mode: Mode) {
        self.shared.lock().unwrap().mode = Some(mode);
    }

    /// Answers `550` to RCPT TO this address.
    pub fn refuse_recipient(&self, address: &str) {
        self.shared
            .lock()
            .unwrap()
            .refused
            .push(address.to_lowercase());
    }

    pub fn accept_all_recipients(&self) {
        self.shared.lock().unwrap().refused.clear();
    }

    /// Closes the listening socket: connections are refused until [`Self::resume`].
    pub async fn stop_listening(&self) {
        let pair = self.stop.lock().unwrap().take();
        if let Some((stop, stopped)) = pair {
            let _ = stop.send(());
            let _ = stopped.await;
        }
    }

    /// Listens again on the same port.
    pub async fn resume(&self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.unwrap();
        self.serve(listener);
    }

    fn serve(&self, listener: TcpListener) {
        let (stop_tx, mut stop_rx) = oneshot::channel::<()>();
        let (stopped_tx, stopped_rx) = oneshot::channel::<()>();
        *self.stop.lock().unwrap() = Some((stop_tx, stopped_rx));
        let shared = self.shared.clone();
        let security = self.security;
        let acceptor = self.tls.as_ref().map(|(a, _)| a.clone());
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = &mut stop_rx => break,
                    accepted = listener.accept() => {
                        let Ok((stream, _)) = accepted else { continue };
                        shared.lock().unwrap().connections += 1;
                        tokio::spawn(connection(stream, shared.clone(), security, acceptor.clone()));
                    }
                }
            }
            drop(listener);
            let _ = stopped_tx.send(());
        });
    }
}

async fn connection(
    stream: TcpStream,
    shared: Arc<Mutex<Shared>>,
    security: Security,
    acceptor: Option<TlsAcceptor>,
) {
    match (security, acceptor) {
        (Security::Implicit, Some(acceptor)) => {
            if let Ok(tls) = acceptor.accept(stream).await {
                session(tls, shared, true, false, true).await;
            }
        }
        (Security::StartTls, Some(acceptor)) => {
            if let Some(plain) = session(stream, shared.clone(), true, true, false).await
                && let Ok(tls) = acceptor.accept(plain).await
            {
                // After STARTTLS the client starts over with EHLO, without a greeting.
                session(tls, shared, false, false, true).await;
            }
        }
        _ => {
            session(stream, shared, true, false, false).await;
        }
    }
}

/// Runs the dialogue; returns the stream when the client asked for STARTTLS.
async fn session<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    shared: Arc<Mutex<Shared>>,
    greet: bool,
    offer_starttls: bool,
    tls: bool,
) -> Option<S> {
    let mut conn = BufReader::new(stream);
    if greet && !reply(&mut conn, "220 smtp.test ESMTP ready").await {
        return None;
    }
    let mut from = String::new();
    let mut rcpt = Vec::new();
    loop {
        let mut line = String::new();
        match conn.read_line(&mut line).await {
            Ok(0) | Err(_) => return None,
            Ok(_) => {}
        }
        let command = line.trim_end().to_owned();
        let upper = command.to_ascii_uppercase();
        let mode = shared.lock().unwrap().mode.clone().unwrap_or(Mode::Accept);
        let answer = if upper.starts_with("EHLO") {
            let starttls = if offer_starttls {
                "250-STARTTLS\r\n"
            } else {
                ""
            };
            format!("250-smtp.test\r\n{starttls}250-8BITMIME\r\n250-SMTPUTF8\r\n250 HELP")
        } else if upper == "STARTTLS" && offer_starttls {
            reply(&mut conn, "220 2.0.0 ready to start TLS").await;
            return Some(conn.into_inner());
        } else if upper.starts_with("HELO") {
            "250 smtp.test".to_owned()
        } else if upper.starts_with("MAIL FROM:") {
            if mode == Mode::TempFail {
                "451 4.3.0 try again later".to_owned()
            } else {
                from = address(&command[10..]);
                rcpt.clear();
                "250 2.1.0 OK".to_owned()
            }
        } else if upper.starts_with("RCPT TO:") {
            let to = address(&command[8..]);
            if shared.lock().unwrap().refused.contains(&to.to_lowercase()) {
                "550 5.1.1 no such mailbox".to_owned()
            } else {
                rcpt.push(to);
                "250 2.1.5 OK".to_owned()
            }
        } else if upper == "DATA" {
            if rcpt.is_empty() {
                "554 5.5.1 no valid recipients".to_owned()
            } else {
                if !reply(&mut conn, "354 end with <CRLF>.<CRLF>").await {
                    return None;
                }
                let mut data = Vec::new();
                loop {
                    let mut l = Vec::new();
                    match conn.read_until(b'\n', &mut l).await {
                        Ok(0) | Err(_) => return None,
                        Ok(_) => {}
                    }
                    if l == b".\r\n" || l == b".\n" {
                        break;
                    }
                    // Dot-unstuffing (RFC 5321 §4.5.2).
                    let l = if l.starts_with(b"..") {
                        &l[1..]
                    } else {
                        &l[..]
                    };
                    data.extend_from_slice(l);
                }
                shared.lock().unwrap().messages.push(Received {
                    mail_from: from.clone(),
                    rcpt_to: std::mem::take(&mut rcpt),
                    data,
                    tls,
                });
                "250 2.0.0 queued".to_owned()
            }
        } else if upper == "RSET" {
            rcpt.clear();
            "250 2.0.0 OK".to_owned()
        } else if upper == "NOOP" {
            "250 2.0.0 OK".to_owned()
        } else if upper == "QUIT" {
            let _ = reply(&mut conn, "221 2.0.0 bye").await;
            return None;
        } else {
            "502 5.5.2 command not implemented".to_owned()
        };
        if !reply(&mut conn, &answer).await {
            return None;
        }
    }
}

/// `<a@b.cn> SIZE=123` → `a@b.cn`.
fn address(arg: &str) -> String {
    let arg = arg.trim();
    match (arg.find('<'), arg.find('>')) {
        (Some(start), Some(end)) if start < end => arg[start + 1..end].to_owned(),
        _ => arg.split_whitespace().next().unwrap_or("").to_owned(),
    }
}

async fn reply<S: AsyncRead + AsyncWrite + Unpin>(w: &mut BufReader<S>, text: &str) -> bool {
    w.write_all(format!("{text}\r\n").as_bytes()).await.is_ok() && w.flush().await.is_ok()
}

/// A server certificate for 127.0.0.1 signed by a CA made here; returns the acceptor and the
/// CA's PEM.
fn test_certificate() -> (TlsAcceptor, String) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "registry test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .unwrap()
        .signed_by(&key, &ca, &ca_key)
        .unwrap();
    let key_der = rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![leaf.der().clone()], key_der)
    .unwrap();
    (TlsAcceptor::from(Arc::new(config)), ca.pem())
}
