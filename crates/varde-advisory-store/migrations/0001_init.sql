-- The advisory unit's database. Nothing here refers to drug-checking data, and no drug-checking table is here.
-- Identity data (the person, the case reference, what was recorded in a case) is sealed: see src/seal.rs.

CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    -- caseworker: the cases of one kommune; lead: those cases and the kommune's anonymous counts.
    role TEXT NOT NULL CHECK (role IN ('caseworker', 'lead')),
    kommune TEXT NOT NULL CHECK (length(kommune) = 4),
    enabled INTEGER NOT NULL DEFAULT 1
) STRICT;

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    expires_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE cases (
    id INTEGER PRIMARY KEY,
    kommune TEXT NOT NULL,
    -- Sealed: the referral (with the police's case reference) and the person.
    referral BLOB NOT NULL,
    person BLOB NOT NULL,
    -- In the clear for lists and retention: dates and the conditions' numbers identify no one.
    decision_date TEXT NOT NULL,
    period_end TEXT NOT NULL,
    meetings INTEGER,
    tests INTEGER,
    created_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX cases_by_kommune ON cases (kommune, period_end);

-- What happened in a case: invitations, outreach, meetings, offers, tests, notices. The kind and day are in the
-- clear (for today's meetings and the counts); what was recorded is sealed.
CREATE TABLE case_events (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('invitation', 'outreach', 'meeting', 'offer', 'test', 'notice')),
    day TEXT NOT NULL,
    data BLOB NOT NULL,
    recorded_ms INTEGER NOT NULL,
    actor TEXT NOT NULL
) STRICT;
CREATE INDEX case_events_by_case ON case_events (case_id, day);
CREATE INDEX case_events_by_day ON case_events (day, kind);

-- What remains of deleted cases: anonymous counts per kommune and quarter of referral.
CREATE TABLE kept_counts (
    kommune TEXT NOT NULL,
    quarter TEXT NOT NULL,
    referrals INTEGER NOT NULL DEFAULT 0,
    attended_first INTEGER NOT NULL DEFAULT 0,
    days_to_first_sum INTEGER NOT NULL DEFAULT 0,
    invited_again INTEGER NOT NULL DEFAULT 0,
    offers_accepted INTEGER NOT NULL DEFAULT 0,
    testing_conditions INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (kommune, quarter)
) STRICT;

-- Hash-chained: each entry's hash covers the one before, so a changed or removed entry breaks the chain. Entries
-- name an action and a case number, never what was recorded.
CREATE TABLE audit (
    seq INTEGER PRIMARY KEY,
    at_ms INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    case_id INTEGER,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
) STRICT;
