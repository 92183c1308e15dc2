-- Reference spectra (the library the engine proposes components from) and the spectra attached to analyses.
-- Points are little-endian f64 arrays; the original file is kept as uploaded so it can be re-read by a better parser.
CREATE TABLE reference_spectra (
    id              INTEGER PRIMARY KEY,
    substance       TEXT NOT NULL,          -- catalogue key
    technique       TEXT NOT NULL CHECK (technique IN ('infrared', 'mass')),
    name            TEXT NOT NULL,
    source          TEXT NOT NULL,          -- where the spectrum comes from, with its licence
    x               BLOB NOT NULL,
    y               BLOB NOT NULL,
    added_by        TEXT NOT NULL,
    added_ms        INTEGER NOT NULL
);
CREATE INDEX reference_spectra_technique ON reference_spectra(technique);

CREATE TABLE analysis_spectra (
    id              INTEGER PRIMARY KEY,
    analysis_id     INTEGER NOT NULL REFERENCES analyses(id),
    technique       TEXT NOT NULL CHECK (technique IN ('infrared', 'mass')),
    filename        TEXT NOT NULL,
    format          TEXT NOT NULL,
    original        BLOB NOT NULL,
    x               BLOB NOT NULL,
    y               BLOB NOT NULL,
    proposals       TEXT NOT NULL,          -- JSON: what the engine proposed when the file came
    uploaded_by     TEXT NOT NULL,
    uploaded_ms     INTEGER NOT NULL
);
CREATE INDEX analysis_spectra_analysis ON analysis_spectra(analysis_id);
