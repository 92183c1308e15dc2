-- One photo per sample, stored as re-encoded JPEG (no metadata), purged after the retention period.
CREATE TABLE photos (
    sample_id       INTEGER PRIMARY KEY REFERENCES samples(id),
    jpeg            BLOB NOT NULL,
    width           INTEGER NOT NULL,
    height          INTEGER NOT NULL,
    uploaded_ms     INTEGER NOT NULL
);
