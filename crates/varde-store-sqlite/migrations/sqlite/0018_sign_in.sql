-- Signing in through an organisation's identity provider (OpenID Connect): the rules an admin keeps that say who
-- gets which role (an issuer, a claim and its value), and which provider's subject each user signed in as. A user
-- made by a first sign-in has no password (its hash is '!', which no password matches).
CREATE TABLE sign_in_rules (
    id              INTEGER PRIMARY KEY,
    issuer          TEXT NOT NULL,
    claim           TEXT NOT NULL,
    value           TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('technician', 'reviewer', 'admin')),
    service_id      INTEGER REFERENCES services(id),
    created_ms      INTEGER NOT NULL,
    CHECK ((role = 'technician') = (service_id IS NOT NULL))
);

CREATE TABLE user_identities (
    issuer          TEXT NOT NULL,
    subject         TEXT NOT NULL,
    user_id         INTEGER NOT NULL REFERENCES users(id),
    created_ms      INTEGER NOT NULL,
    PRIMARY KEY (issuer, subject)
) WITHOUT ROWID;
