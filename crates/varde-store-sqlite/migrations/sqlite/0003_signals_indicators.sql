-- Signals from weekly counts, and the indicators beside samples.

-- One row per alarm: a stream (what was counted) in an area rose above its bound in an ISO week.
CREATE TABLE signals (
    id              INTEGER PRIMARY KEY,
    computed_ms     INTEGER NOT NULL,
    stream          TEXT NOT NULL,      -- substance:<id>, class:<class>, concern_reports, overdoses
    area            TEXT NOT NULL,      -- two-digit fylkesnummer or 'national'
    week            TEXT NOT NULL,      -- ISO week, 2026-W47
    method          TEXT NOT NULL,
    observed        REAL NOT NULL,
    expected        REAL,
    upperbound      REAL NOT NULL,
    evidence        TEXT NOT NULL,      -- JSON array of sample ids
    status          TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'drafted', 'dismissed')),
    alert_id        INTEGER REFERENCES alerts(id),
    UNIQUE (stream, area, week)
);

-- Anonymous concern reports (bekymringsmeldinger) from the public and staff.
CREATE TABLE concern_reports (
    id              INTEGER PRIMARY KEY,
    received_ms     INTEGER NOT NULL,
    kommune         TEXT NOT NULL,
    fylke           TEXT NOT NULL,
    happened        TEXT NOT NULL,
    believed        TEXT,               -- what the product was believed to be
    looked_like     TEXT,
    purged          INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX concern_reports_received ON concern_reports(received_ms);

-- Aggregated daily counts from user rooms.
CREATE TABLE user_room_days (
    service_id      INTEGER NOT NULL REFERENCES services(id),
    day             TEXT NOT NULL,      -- YYYY-MM-DD
    visits          INTEGER NOT NULL,
    overdoses       INTEGER NOT NULL,
    naloxone        INTEGER NOT NULL,
    referrals       INTEGER NOT NULL,
    PRIMARY KEY (service_id, day)
) WITHOUT ROWID;

-- Drug-induced deaths per year (cause-of-death register), nationally.
CREATE TABLE deaths (
    year            INTEGER PRIMARY KEY,
    deaths          INTEGER NOT NULL,
    note            TEXT,
    source          TEXT NOT NULL
);
