-- A member who signs in through the kommune's identity provider (OpenID Connect, e.g. Entra ID): the issuer's name,
-- a claim of its ID token and the value that is this member (Entra ID's `oid`, or any provider's `sub`). Only an
-- admin's link lets anyone in; a sign-in makes no member.
CREATE TABLE identities (
    issuer TEXT NOT NULL,
    claim TEXT NOT NULL,
    value TEXT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id),
    PRIMARY KEY (issuer, claim, value)
) STRICT;
