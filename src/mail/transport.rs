//! Delivery: lettre's SMTP transport (rustls) when `SMTP_URL` is set, otherwise `.eml` files
//! under `<data dir>/mail/`. Failures are classified for the job queue: a permanent SMTP
//! reply (5xx: a refused address, a refused sender) is dead at once; anything else (4xx,
//! refused connection, timeout, TLS hiccup) is retried with the queue's backoff.

use std::path::{Path, PathBuf};

use lettre::Transport as _;
use lettre::message::{Mailbox, Message, MultiPart};
use lettre::transport::smtp::SmtpTransport;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};

use crate::config::Settings;
use crate::mail::config::{SmtpUrl, TlsMode};
use crate::mail::templates::Rendered;

/// Where messages go.
pub enum Mailer {
    Smtp(Box<SmtpTransport>),
    Files(PathBuf),
}

/// Why a message was not delivered.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Will not succeed on a retry (5xx, a malformed message or address).
    #[error("{0}")]
    Permanent(String),
    /// May succeed later.
    #[error("{0}")]
    Transient(String),
}

impl Mailer {
    pub fn from_settings(settings: &Settings) -> Result<Self, SendError> {
        match &settings.mail.smtp {
            Some(url) => Ok(Self::Smtp(Box::new(smtp_transport(
                url,
                settings.mail.smtp_timeout,
            )?))),
            None => Ok(Self::Files(mail_dir(&settings.data_dir))),
        }
    }

    /// Delivers one message; `file_stem` names the `.eml` file of the file transport (the
    /// same stem overwrites, so a retried job leaves one file).
    pub fn send(&self, message: &Message, file_stem: &str) -> Result<(), SendError> {
        match self {
            Self::Smtp(transport) => transport.send(message).map(|_| ()).map_err(classify),
            Self::Files(dir) => write_eml(dir, file_stem, &message.formatted())
                .map_err(|e| SendError::Transient(format!("cannot write the .eml file: {e}"))),
        }
    }
}

/// `<data dir>/mail/`.
pub fn mail_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("mail")
}

fn smtp_transport(url: &SmtpUrl, timeout: std::time::Duration) -> Result<SmtpTransport, SendError> {
    let tls = |host: &str| {
        TlsParameters::new(host.to_owned())
            .map_err(|e| SendError::Permanent(format!("TLS set-up for {host} failed: {e}")))
    };
    let tls = match url.tls {
        TlsMode::None => Tls::None,
        TlsMode::Opportunistic => Tls::Opportunistic(tls(&url.host)?),
        TlsMode::StartTls => Tls::Required(tls(&url.host)?),
        TlsMode::Implicit => Tls::Wrapper(tls(&url.host)?),
    };
    let mut builder = SmtpTransport::builder_dangerous(url.host.clone())
        .port(url.port)
        .tls(tls)
        .timeout(Some(timeout));
    if let (Some(user), Some(password)) = (&url.username, &url.password) {
        builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
    }
    Ok(builder.build())
}

fn classify(e: lettre::transport::smtp::Error) -> SendError {
    let detail = format!("SMTP: {e}");
    if e.is_permanent() {
        SendError::Permanent(detail)
    } else {
        SendError::Transient(detail)
    }
}

/// Writes atomically (temp file, then rename), so a mail client never sees half a message.
fn write_eml(dir: &Path, stem: &str, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(format!("{stem}.eml"));
    let tmp = dir.join(format!(".{stem}.eml.tmp"));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(tmp, path)
}

/// Builds the MIME message: `multipart/alternative` with `text/plain; charset=utf-8` and
/// `text/html; charset=utf-8` parts (lettre omits the charset on a bare body), an RFC 2047
/// encoded subject, the service clock's date and a Message-ID derived from the event, so a
/// duplicate delivery is recognisable as the same message.
pub fn build_message(
    from: &Mailbox,
    to: &str,
    rendered: &Rendered,
    date: chrono::DateTime<chrono::Utc>,
    message_key: &str,
) -> Result<Message, SendError> {
    let to: Mailbox = to
        .parse()
        .map_err(|e| SendError::Permanent(format!("invalid recipient address: {e}")))?;
    let domain = from.email.domain().to_owned();
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(rendered.subject.clone())
        .date(date.into())
        .message_id(Some(format!("<{message_key}@{domain}>")))
        .multipart(MultiPart::alternative_plain_html(
            rendered.text.clone(),
            rendered.html.clone(),
        ))
        .map_err(|e| SendError::Permanent(format!("cannot build the message: {e}")))
}
