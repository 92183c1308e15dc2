//! E-mail over SMTP with lettre: one pooled transport (connections are reused across messages), messages as text and
//! HTML alternatives, and the one-click unsubscription headers of RFC 8058 on every message to a subscriber.

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

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

/// Hands messages to an SMTP server. Cheap to clone: clones share the connection pool.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// `smtp://[user:password@]host[:port]` (plain; add `?tls=required` for STARTTLS, `?tls=opportunistic` to use
    /// it when offered) or `smtps://…` (TLS from the start). `connections` bounds the pool.
    pub fn new(url: &str, from: &str, connections: u32) -> Result<Mailer, MailError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| MailError::Url(e.to_string()))?
            .pool_config(PoolConfig::new().max_size(connections.max(1)))
            .build();
        let from = from.parse::<Mailbox>().map_err(|_| MailError::Address(from.to_owned()))?;
        Ok(Mailer { transport, from })
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

    pub async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let message = self.build(mail)?;
        self.transport.send(message).await.map(|_| ()).map_err(|e| {
            if e.is_permanent() { MailError::Refused(e.to_string()) } else { MailError::Transient(e.to_string()) }
        })
    }
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
    }
}
