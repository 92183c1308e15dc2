-- A pill photo a reviewer chose for an alert. A copy of the sample's photo (already re-encoded, without metadata):
-- published with the alert, it must not vanish when the sample's photo is purged after the retention period, and a
-- photo is public only through this table, that is only once a reviewer chose it.
CREATE TABLE alert_photos (
    alert_id    INTEGER PRIMARY KEY REFERENCES alerts(id),
    sample_id   INTEGER NOT NULL REFERENCES samples(id),
    jpeg        BLOB NOT NULL,
    width       INTEGER NOT NULL,
    height      INTEGER NOT NULL,
    sha1        TEXT NOT NULL,      -- hex SHA-1 of the JPEG, as CAP 1.2's <resource><digest> asks
    chosen_ms   INTEGER NOT NULL
);
