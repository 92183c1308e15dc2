//! Varde's fixed settings in one place, a section per concern, each with the reason for its value. What an operator
//! chooses at start (addresses, retention, SMTP, escalation, proxies) are the binary's flags (`varde serve --help`,
//! docs/operations.md, "Configuration"); these are the values that hold everywhere and change only with the code.

/// Rate limits and sizes that protect the service: per client address, per account, per request. Limits are counted
/// in the database (see [`crate::http::limits`]), so every instance sharing it counts together.
pub mod limits {
    use crate::http::limits::Limit;
    use std::time::Duration;

    /// Subscription requests per e-mail address or push endpoint per hour: enough to ask again, too few to flood
    /// someone's inbox.
    pub const SUBSCRIPTION_REQUESTS_PER_ADDRESS: Limit = Limit::new("subscribe-address", 3, HOUR);

    /// Subscription requests per client address per hour.
    pub const SUBSCRIPTION_REQUESTS_PER_CLIENT: Limit = Limit::new("subscribe-client", 10, HOUR);

    /// Result look-ups (page and API together) per address in ten minutes.
    pub const LOOKUPS_PER_ADDRESS: Limit = Limit::new("lookup", 5, WINDOW);

    /// Concern reports per address in ten minutes.
    pub const CONCERNS_PER_ADDRESS: Limit = Limit::new("concern", 5, WINDOW);

    /// Failed logins from one address, and for one account from anywhere, before they are locked for the rest of
    /// ten minutes.
    pub const LOGIN_FAILURES_PER_ADDRESS: Limit = Limit::new("login-address", 5, WINDOW);

    pub const LOGIN_FAILURES_PER_ACCOUNT: Limit = Limit::new("login-account", 10, WINDOW);

    /// The largest request body accepted (a sample with many analyses is a few kilobytes).
    pub const MAX_BODY: usize = 1 << 20;

    const WINDOW: Duration = Duration::from_secs(600);
    const HOUR: Duration = Duration::from_secs(3600);
}

/// Staff sessions and the cookies of the pages.
pub mod sessions {
    /// The form's anti-forgery cookie: the same random token travels in the form and in this cookie (double submit),
    /// which another site can neither read nor set.
    pub const CONCERN_CSRF_COOKIE: &str = "varde_concern";

    /// The staff session cookie (`HttpOnly`, `SameSite=Strict`, `Secure` behind https).
    pub const COOKIE: &str = "varde_session";

    /// The login form's double-submit cookie, before there is a session to bind a token to.
    pub const LOGIN_CSRF_COOKIE: &str = "varde_login";

    /// A session lasts a working day.
    pub const SESSION_HOURS: i64 = 8;

    /// A session not used for half an hour ends (a tablet left logged in at a user room's counter); an operator may
    /// choose another (`--session-idle-minutes`).
    pub const IDLE_DEFAULT: jiff::SignedDuration = jiff::SignedDuration::from_mins(30);
}

/// How long public figures and feeds are served from memory before they are renewed.
pub mod figures {
    use std::time::Duration;

    /// The Atom feed is rendered at most this often; feed readers poll, and an alert is seconds late at most.
    pub const ATOM_FRESH: Duration = Duration::from_secs(10);

    /// A CAP message is rendered at most this often per alert, for the same reason: a message changes with an
    /// event (which renders it anew at once) or when its alert expires or a photo is chosen for it (seen within this
    /// time). Rendering it took two queries a request, the most a CAP consumer's polling cost.
    pub const CAP_FRESH: Duration = Duration::from_secs(10);

    /// At most this many alerts' CAP messages are kept; past it the cache starts again (alerts are hundreds a year).
    pub const CAP_KEPT: usize = 1_000;

    /// How far back a user room's own table of daily counts goes.
    pub const USER_ROOM_WEEKS_SHOWN: i64 = 8;

    /// How old a rendering may be before the next request starts a new one.
    pub const FRESH: Duration = Duration::from_secs(60);

    /// Renderings up to this size are kept plain as well as compressed.
    pub const KEEP_PLAIN: usize = 1 << 20;
}

/// Handing warnings to subscribers: batches, connections, push lifetimes.
pub mod reach {
    /// The longest push endpoint accepted (push services' URLs are a few hundred characters).
    pub const MAX_PUSH_ENDPOINT: usize = 2048;

    /// Messages taken from the outbox at a time.
    pub const OUTBOX_BATCH: usize = 500;

    /// E-mails handed over at once, each on its own pooled SMTP connection.
    pub const EMAIL_CONNECTIONS: u32 = 8;

    /// Pushes handed over at once, each its own task (encryption uses both cores).
    pub const PUSH_PARALLEL: usize = 32;

    /// How long a push service keeps an undelivered warning for a sleeping phone (RFC 8030 TTL): a day.
    pub const PUSH_TTL_SECONDS: u32 = 86_400;
}

/// Registering samples and answering the people who brought them.
pub mod check {
    use std::time::Duration;

    /// How many sample codes are drawn before giving up. 60 random bits make a collision vanishingly rare; a few tries
    /// make it impossible in practice, and a bound keeps a broken random source from looping forever.
    pub const CODE_TRIES: usize = 5;

    /// How many library matches are proposed.
    pub const SPECTRUM_MATCHES: usize = 5;

    /// Photos are scaled down to at most this many pixels on their longer side.
    pub const PHOTO_MAX_SIDE: u32 = 1600;

    /// Every look-up answers after at least this long, whatever the code.
    pub const RESULT_ANSWER_AFTER: Duration = Duration::from_millis(150);
}

/// Bounds on connections, so that no client can hold the server (see `http/listener.rs`).
pub mod connections {
    use std::time::Duration;

    /// A request's headers (a few hundred bytes) arrive within milliseconds from any phone; ten seconds leaves room
    /// for a bad mobile network and cuts a half-sent request.
    pub const HEADER_READ: Duration = Duration::from_secs(10);

    /// The largest body is 1 MiB (a photo); thirty seconds is 35 kB/s, slower than any network a technician uses.
    pub const BODY_READ: Duration = Duration::from_secs(30);

    /// Connections one client address holds at once: a browser opens six per host, a service's office behind one
    /// address a few dozen; an event stream each. Trusted reverse proxies are exempt.
    pub const PER_CLIENT: usize = 256;

    /// All connections at once: below the file limit (20,000 on the machines we run on), leaving room for the
    /// database, files and outbound connections.
    pub const TOTAL: usize = 16_000;
}
