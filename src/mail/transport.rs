//! Delivery: lettre's SMTP transport (rustls) when `SMTP_URL` is set, otherwise `.eml` files
//! under `<data dir>/mail/`. Failures are classified for the job queue: a permanent SMTP
//! reply (5xx: a refused address, a refused sender) is dead at once; anything else (4xx,
//! refused connection, timeout, TLS hiccup) is retried with the queue's backoff.

use std::path::{Path, PathBuf};

use lettre::Transport as _;
use lettre::message::{Mailbox, Message, MultiPart};
use lettre::transport::smtp::SmtpTransport;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};

use crate::config::Settings;
use crate::config::mail::{SmtpUrl, TlsMode};
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
                settings.mail.smtp_ca_pem.as_deref(),
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

fn smtp_transport(
    url: &SmtpUrl,
    timeout: std::time::Duration,
    ca_pem: Option<&[u8]>,
) -> Result<SmtpTransport, SendError> {
    let tls = |host: &str| {
        let failed = |e: lettre::transport::smtp::Error| {
            SendError::Permanent(format!("TLS set-up for {host} failed: {e}"))
        };
        let mut builder = TlsParameters::builder(host.to_owned());
        if let Some(pem) = ca_pem {
            builder = builder.add_root_certificate(Certificate::from_pem(pem).map_err(failed)?);
        }
        builder.build_rustls().map_err(failed)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Overrides, Settings};

    fn settings(smtp_url: &str) -> Settings {
        let url = smtp_url.to_owned();
        Settings::from_lookup(
            move |k| (k == "SMTP_URL").then(|| url.clone()),
            &Overrides::default(),
        )
        .unwrap()
    }

    #[test]
    fn every_tls_mode_builds_a_transport_with_the_ring_provider() {
        for url in [
            "smtp://relay.example.cn?tls=none",
            "smtp://relay.example.cn?tls=opportunistic",
            "smtp://u:p@relay.example.cn:587?tls=starttls",
            "smtps://u:p@relay.example.cn",
        ] {
            assert!(
                matches!(Mailer::from_settings(&settings(url)), Ok(Mailer::Smtp(_))),
                "{url}"
            );
        }
        let mut s = settings("smtps://relay.example.cn");
        s.mail.smtp_ca_pem = Some(b"-----BEGIN CERTIFICATE-----\nnot base64\n".to_vec());
        assert!(matches!(
            Mailer::from_settings(&s),
            Err(SendError::Permanent(_))
        ));
    }

    #[test]
    fn a_bad_recipient_address_is_permanent() {
        let rendered = Rendered {
            subject: "主题".into(),
            text: "正文".into(),
            html: "<p>正文</p>".into(),
        };
        let from: Mailbox = crate::config::mail::DEFAULT_FROM.parse().unwrap();
        let err =
            build_message(&from, "not an address", &rendered, chrono::Utc::now(), "k").unwrap_err();
        assert!(matches!(err, SendError::Permanent(_)), "{err}");
    }
}
