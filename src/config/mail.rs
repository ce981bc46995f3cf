//! Mail settings: where messages go (`SMTP_URL`, or `.eml` files under the data directory),
//! who sends them (`MAIL_FROM`) and when the annual-inspection reminder goes out.
//!
//! `SMTP_URL` forms (credentials percent-encoded in the user-info part):
//!
//! | URL | connection |
//! |---|---|
//! | `smtp://user:pass@host:587?tls=starttls` | plain connection upgraded with STARTTLS (required); the default TLS mode of `smtp://`, default port 587 |
//! | `smtps://user:pass@host:465` | implicit TLS from the first byte; default port 465 |
//! | `smtp://host:25?tls=none` | no TLS at all (a local relay, tests); default port 25 |
//! | `smtp://host?tls=opportunistic` | STARTTLS when the server offers it, plain otherwise |
//!
//! TLS is rustls with the webpki root certificates (no OpenSSL), plus the certificates of
//! `SMTP_CA_FILE` (PEM) for a relay with a private certificate authority.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context, bail};
use chrono::NaiveDate;

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    None,
    Opportunistic,
    StartTls,
    Implicit,
}

/// A parsed `SMTP_URL`. Its `Debug` hides the password.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpUrl {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub username: Option<String>,
    pub password: Option<String>,
}

impl fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpUrl")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .finish()
    }
}

impl SmtpUrl {
    pub fn parse(raw: &str) -> anyhow::Result<Self> {
        // The URL itself is never echoed back: it may hold a password.
        let url = url::Url::parse(raw.trim())
            .context("SMTP_URL must be a URL like smtp://user:pass@host:587?tls=starttls")?;
        let tls_param = url
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.to_ascii_lowercase());
        let (tls, default_port) = match (url.scheme(), tls_param.as_deref()) {
            ("smtps", None | Some("implicit") | Some("tls") | Some("wrapper")) => {
                (TlsMode::Implicit, 465)
            }
            ("smtp", None | Some("starttls") | Some("required")) => (TlsMode::StartTls, 587),
            ("smtp", Some("opportunistic")) => (TlsMode::Opportunistic, 587),
            ("smtp", Some("none")) => (TlsMode::None, 25),
            ("smtp" | "smtps", Some(other)) => {
                bail!(
                    "SMTP_URL: tls must be none, opportunistic or starttls (smtp://), or omitted (smtps://), not `{other}`"
                )
            }
            (scheme, _) => bail!("SMTP_URL must start with smtp:// or smtps://, not {scheme}://"),
        };
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .context("SMTP_URL has no host")?
            .trim_matches(['[', ']'])
            .to_owned();
        let decode = |s: &str| -> anyhow::Result<String> {
            Ok(
                url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default(),
            )
        };
        let username = match url.username() {
            "" => None,
            u => Some(decode(u)?),
        };
        let password = url.password().map(decode).transpose()?;
        if password.is_some() && username.is_none() {
            bail!("SMTP_URL has a password but no user name");
        }
        Ok(Self {
            host,
            port: url.port().unwrap_or(default_port),
            tls,
            username,
            password,
        })
    }
}

/// Everything the mailer reads from the environment.
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// `None`: messages are written as `.eml` files under `<data dir>/mail/`.
    pub smtp: Option<SmtpUrl>,
    /// The sender, `Name <address>` or a bare address.
    pub from: lettre::message::Mailbox,
    /// Month and day (Beijing) from which institutions lacking last year's annual inspection
    /// record are reminded, once a year each.
    pub inspection_reminder: (u32, u32),
    pub smtp_timeout: Duration,
    /// Extra trusted root certificates (PEM) for the SMTP server's TLS certificate.
    pub smtp_ca_pem: Option<Vec<u8>>,
}

pub const DEFAULT_FROM: &str = "课后服务机构备选库 <noreply@registry.invalid>";

impl MailSettings {
    pub fn from_vars(
        smtp_url: Option<String>,
        from: Option<String>,
        reminder: Option<String>,
        timeout_seconds: u64,
        ca_file: Option<String>,
    ) -> anyhow::Result<Self> {
        let smtp = smtp_url.as_deref().map(SmtpUrl::parse).transpose()?;
        let from_raw = from.unwrap_or_else(|| DEFAULT_FROM.to_owned());
        let from = lettre::message::Mailbox::from_str(from_raw.trim()).map_err(|e| {
            anyhow::anyhow!("MAIL_FROM must be `Name <address>` or an address ({e})")
        })?;
        let inspection_reminder = month_day(reminder.as_deref().unwrap_or("06-01"))
            .context("INSPECTION_REMINDER_DATE must be MM-DD, e.g. 06-01")?;
        let smtp_ca_pem = ca_file
            .map(|path| {
                std::fs::read(path.trim())
                    .with_context(|| format!("SMTP_CA_FILE: cannot read {}", path.trim()))
            })
            .transpose()?;
        Ok(Self {
            smtp_ca_pem,
            smtp,
            from,
            inspection_reminder,
            smtp_timeout: Duration::from_secs(timeout_seconds.clamp(1, 600)),
        })
    }

    /// The reminder date in `year`.
    pub fn reminder_date(&self, year: i32) -> Option<NaiveDate> {
        let (m, d) = self.inspection_reminder;
        NaiveDate::from_ymd_opt(year, m, d)
    }
}

fn month_day(s: &str) -> anyhow::Result<(u32, u32)> {
    let (m, d) = s.trim().split_once('-').context("no `-`")?;
    let (m, d) = (m.parse::<u32>()?, d.parse::<u32>()?);
    // 2024 is a leap year: 02-29 is accepted (and skipped in other years).
    NaiveDate::from_ymd_opt(2024, m, d).context("no such day")?;
    Ok((m, d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_url_forms() {
        let u =
            SmtpUrl::parse("smtp://user%40x.cn:p%40ss@mail.example.cn:587?tls=starttls").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.tls),
            ("mail.example.cn", 587, TlsMode::StartTls)
        );
        assert_eq!(u.username.as_deref(), Some("user@x.cn"));
        assert_eq!(u.password.as_deref(), Some("p@ss"));
        assert!(!format!("{u:?}").contains("p@ss"));
        let u = SmtpUrl::parse("smtps://mail.example.cn").unwrap();
        assert_eq!((u.port, u.tls), (465, TlsMode::Implicit));
        let u = SmtpUrl::parse("smtp://127.0.0.1:2525?tls=none").unwrap();
        assert_eq!((u.port, u.tls, u.username), (2525, TlsMode::None, None));
        let u = SmtpUrl::parse("smtp://relay.local").unwrap();
        assert_eq!((u.port, u.tls), (587, TlsMode::StartTls));
        assert!(SmtpUrl::parse("http://x").is_err());
        assert!(SmtpUrl::parse("smtp://x?tls=maybe").is_err());
        let err = SmtpUrl::parse("smtp://u:secret@?tls=none").unwrap_err();
        assert!(!format!("{err:#}").contains("secret"));
    }

    #[test]
    fn reminder_dates_and_sender() {
        let s = MailSettings::from_vars(None, None, None, 30, None).unwrap();
        assert_eq!(s.inspection_reminder, (6, 1));
        assert_eq!(s.from.email.to_string(), "noreply@registry.invalid");
        assert!(MailSettings::from_vars(None, None, Some("13-01".into()), 30, None).is_err());
        assert!(
            MailSettings::from_vars(None, Some("not an address".into()), None, 30, None).is_err()
        );
        let s = MailSettings::from_vars(None, None, Some("02-29".into()), 30, None).unwrap();
        assert_eq!(s.reminder_date(2026), None);
    }
}
