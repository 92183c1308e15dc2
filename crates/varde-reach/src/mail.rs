//! E-mail over SMTP with lettre's SMTP client: a pool of reused connections, messages as text and HTML
//! alternatives, and the one-click unsubscription headers of RFC 8058 on every message to a subscriber.
//!
//! The pool is Varde's own, not lettre's, for one reason: lettre 0.11 leaves Nagle's algorithm on and writes a
//! message's final `.` separately from its body, so every message waits for the server's delayed ACK (40 ms on Linux)
//! and one connection sends at most ~23 messages a second (lettre PR #1159, merged after 0.11.23). Our connections
//! are opened with `TCP_NODELAY`, which takes a message to about a millisecond on loopback.

use lettre::Message;
use lettre::address::Envelope;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("the SMTP URL is not usable: {0}")]
    Url(String),
    #[error("'{0}' is not an e-mail address")]
    Address(String),
    #[error("the message cannot be built: {0}")]
    Build(String),
    /// The server refused for good (5xx): retrying the same message will not help.
    #[error("the SMTP server refused the message: {0}")]
    Refused(String),
    /// A connection failure or a temporary refusal (4xx): try again later.
    #[error("the message could not be handed to the SMTP server: {0}")]
    Transient(String),
}

/// One message to one recipient.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The one-click unsubscription address (RFC 8058); None for mail that is not to a subscriber.
    pub unsubscribe: Option<String>,
    /// `Content-Language`.
    pub lang: &'static str,
}

/// How to reach the SMTP server, from the URL.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Security {
    /// Plain SMTP (a relay on the same host or network).
    None,
    /// STARTTLS: `required` fails without it, otherwise it is used when offered.
    StartTls { required: bool },
    /// TLS from the first byte (`smtps://`, port 465).
    Implicit,
}

#[derive(Debug, Clone)]
struct Server {
    host: String,
    port: u16,
    security: Security,
    credentials: Option<(String, String)>,
}

fn parse_url(url: &str) -> Result<Server, MailError> {
    let bad = |why: &str| {
        MailError::Url(format!("{why} (smtp://[user:password@]host[:port][?tls=required|opportunistic] or smtps://…)"))
    };
    let parsed = url::Url::parse(url).map_err(|e| bad(&e.to_string()))?;
    let host = parsed.host_str().filter(|h| !h.is_empty()).ok_or_else(|| bad("no host"))?.to_owned();
    let tls = parsed.query_pairs().find(|(k, _)| k == "tls").map(|(_, v)| v.into_owned());
    let (security, default_port) = match (parsed.scheme(), tls.as_deref()) {
        ("smtp", None | Some("none")) => (Security::None, 25),
        ("smtp", Some("required")) => (Security::StartTls { required: true }, 587),
        ("smtp", Some("opportunistic")) => (Security::StartTls { required: false }, 25),
        ("smtps", None) => (Security::Implicit, 465),
        ("smtp" | "smtps", Some(other)) => return Err(bad(&format!("unknown tls={other}"))),
        (scheme, _) => return Err(bad(&format!("unknown scheme {scheme}"))),
    };
    let decode = |s: &str| percent_decode(s).ok_or_else(|| bad("the credentials are not valid percent-encoding"));
    let credentials = match (parsed.username(), parsed.password()) {
        ("", None) => None,
        (user, password) => Some((decode(user)?, decode(password.unwrap_or(""))?)),
    };
    Ok(Server { host, port: parsed.port().unwrap_or(default_port), security, credentials })
}

fn percent_decode(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Hands messages to an SMTP server over at most `connections` reused connections. Cheap to clone: clones share
/// the pool.
#[derive(Clone)]
pub struct Mailer {
    server: Arc<Server>,
    from: Mailbox,
    hello: ClientId,
    idle: Arc<Mutex<Vec<AsyncSmtpConnection>>>,
    permits: Arc<tokio::sync::Semaphore>,
}

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

impl Mailer {
    /// `smtp://[user:password@]host[:port]` (plain; add `?tls=required` for STARTTLS, `?tls=opportunistic` to use
    /// it when offered) or `smtps://…` (TLS from the start). `connections` bounds the pool.
    pub fn new(url: &str, from: &str, connections: u32) -> Result<Mailer, MailError> {
        let server = parse_url(url)?;
        let from = from.parse::<Mailbox>().map_err(|_| MailError::Address(from.to_owned()))?;
        Ok(Mailer {
            server: Arc::new(server),
            from,
            hello: ClientId::default(),
            idle: Arc::default(),
            permits: Arc::new(tokio::sync::Semaphore::new(connections.max(1) as usize)),
        })
    }

    /// Builds the message as it goes on the wire (also used by tests to see the headers).
    pub fn build(&self, mail: &Mail) -> Result<Message, MailError> {
        let to = mail.to.parse::<Mailbox>().map_err(|_| MailError::Address(mail.to.clone()))?;
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&mail.subject)
            .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("Content-Language"), mail.lang.to_owned()))
            // Automated mail: no out-of-office replies (RFC 3834).
            .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("Auto-Submitted"), "auto-generated".into()));
        if let Some(url) = &mail.unsubscribe {
            builder = builder
                .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("List-Unsubscribe"), format!("<{url}>")))
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                    "List-Unsubscribe=One-Click".into(),
                ));
        }
        builder
            .multipart(
                MultiPart::alternative()
                    .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(mail.text.clone()))
                    .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(mail.html.clone())),
            )
            .map_err(|e| MailError::Build(e.to_string()))
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, MailError> {
        let s = &*self.server;
        let tls = || TlsParameters::new(s.host.clone()).map_err(transient);
        let mut connection = if s.security == Security::Implicit {
            AsyncSmtpConnection::connect_tokio1(
                (s.host.as_str(), s.port),
                Some(CONNECT_TIMEOUT),
                &self.hello,
                Some(tls()?),
                None,
            )
            .await
            .map_err(transient)?
        } else {
            let unreachable =
                |e: std::io::Error| MailError::Transient(format!("cannot connect to {}:{}: {e}", s.host, s.port));
            let tcp = tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect((s.host.as_str(), s.port)))
                .await
                .map_err(|_| unreachable(std::io::ErrorKind::TimedOut.into()))?
                .map_err(unreachable)?;
            // See the module's comment.
            tcp.set_nodelay(true).map_err(unreachable)?;
            AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &self.hello).await.map_err(transient)?
        };
        if let Security::StartTls { required } = s.security {
            if connection.can_starttls() {
                connection.starttls(tls()?, &self.hello).await.map_err(transient)?;
            } else if required {
                return Err(MailError::Transient(format!(
                    "{} does not offer STARTTLS, which tls=required asks for",
                    s.host
                )));
            }
        }
        if let Some((user, password)) = &s.credentials {
            let credentials = Credentials::new(user.clone(), password.clone());
            connection.auth(&[Mechanism::Plain, Mechanism::Login], &credentials).await.map_err(transient)?;
        }
        Ok(connection)
    }

    pub async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let message = self.build(mail)?;
        let envelope: Envelope = message.envelope().clone();
        let bytes = message.formatted();
        let _permit = self.permits.acquire().await.map_err(|e| MailError::Transient(e.to_string()))?;
        let pooled = self.idle.lock().expect("not poisoned").pop();
        let mut connection = match pooled {
            Some(c) => c,
            None => self.connect().await?,
        };
        match connection.send(&envelope, &bytes).await {
            Ok(_) => {
                if !connection.has_broken() {
                    self.idle.lock().expect("not poisoned").push(connection);
                }
                Ok(())
            }
            // A refusal of this message leaves the connection usable; anything else drops it.
            Err(e) => {
                if e.is_permanent() && !connection.has_broken() {
                    self.idle.lock().expect("not poisoned").push(connection);
                }
                Err(classify(e))
            }
        }
    }
}

/// Failing to connect, to start TLS or to log in is never the message's fault: it waits for the server (or a fixed
/// configuration) however the server put it.
fn transient(e: lettre::transport::smtp::Error) -> MailError {
    MailError::Transient(e.to_string())
}

fn classify(e: lettre::transport::smtp::Error) -> MailError {
    if e.is_permanent() { MailError::Refused(e.to_string()) } else { MailError::Transient(e.to_string()) }
}

/// Whether `address` is an e-mail address Varde will write to: one `@`, a local part and a domain with a dot, no
/// spaces or angle brackets, at most 254 characters (RFC 5321). Returns it trimmed and in lower case: RFC 5321 lets a
/// server tell local parts apart by case, but mail services do not, and one mailbox must be one subscriber (and one
/// rate limit) however its owner types it.
pub fn normalise_address(address: &str) -> Option<String> {
    let address = address.trim();
    if address.len() > 254 || address.chars().any(|c| c.is_whitespace() || c.is_control() || "<>,;\"()[]\\".contains(c))
    {
        return None;
    }
    let (local, domain) = address.rsplit_once('@')?;
    let labels_ok = domain.split('.').count() >= 2
        && domain.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    if local.is_empty() || local.len() > 64 || local.contains('@') || !labels_ok {
        return None;
    }
    let normal = format!("{local}@{domain}").to_lowercase();
    normal.parse::<Mailbox>().ok().map(|_| normal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked_and_their_domain_lowercased() {
        assert_eq!(
            normalise_address("  Kari.Nordmann+varde@Example.NO "),
            Some("kari.nordmann+varde@example.no".into())
        );
        assert_eq!(normalise_address("ola@brukerrom.oslo.kommune.no"), Some("ola@brukerrom.oslo.kommune.no".into()));
        for bad in [
            "",
            "kari",
            "kari@",
            "@example.no",
            "kari@example",
            "kari@@example.no",
            "kari nordmann@example.no",
            "kari@exa mple.no",
            "<kari@example.no>",
            "kari@example.no, ola@example.no",
            "kari@-example.no",
            "kari@example..no",
            "kari@example.no\r\nBcc: x@y.no",
        ] {
            assert_eq!(normalise_address(bad), None, "{bad:?}");
        }
        assert_eq!(normalise_address(&format!("{}@example.no", "a".repeat(65))), None);
    }

    // The pooled transport lives on a Tokio runtime, as in the server.
    #[tokio::test]
    async fn messages_carry_one_click_unsubscription_and_both_parts() {
        let mailer = Mailer::new("smtp://127.0.0.1:2525", "Varde <varde@example.no>", 2).unwrap();
        let mail = Mail {
            to: "kari@example.no".into(),
            subject: "Åtvaring: nitazen i heroin".into(),
            text: "Tekst".into(),
            html: "<p>Tekst</p>".into(),
            unsubscribe: Some("https://varde.example.no/subscriptions/7/abc/unsubscribe".into()),
            lang: "nn",
        };
        let wire = String::from_utf8(mailer.build(&mail).unwrap().formatted()).unwrap();
        assert!(
            wire.contains("List-Unsubscribe: <https://varde.example.no/subscriptions/7/abc/unsubscribe>"),
            "{wire}"
        );
        assert!(wire.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
        assert!(wire.contains("Content-Language: nn"));
        assert!(wire.contains("multipart/alternative") && wire.contains("text/plain") && wire.contains("text/html"));
        let plain = Mail { unsubscribe: None, ..mail };
        assert!(!String::from_utf8(mailer.build(&plain).unwrap().formatted()).unwrap().contains("List-Unsubscribe"));
        assert!(Mailer::new("ftp://x", "varde@example.no", 1).is_err());
        assert!(Mailer::new("smtp://x?tls=maybe", "varde@example.no", 1).is_err());
    }

    #[test]
    fn smtp_urls_name_security_port_and_credentials() {
        let s = parse_url("smtp://varde%40example.no:p%C3%A5ss%3A@mail.example.no:2525?tls=required").unwrap();
        assert_eq!(
            (s.host.as_str(), s.port, &s.security),
            ("mail.example.no", 2525, &Security::StartTls { required: true })
        );
        assert_eq!(s.credentials, Some(("varde@example.no".into(), "påss:".into())));
        assert_eq!(parse_url("smtp://relay").unwrap().port, 25);
        assert_eq!(parse_url("smtp://relay?tls=required").unwrap().port, 587);
        let s = parse_url("smtps://mail.example.no").unwrap();
        assert_eq!((s.port, s.security, s.credentials), (465, Security::Implicit, None));
    }
}
