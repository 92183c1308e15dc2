-- What a result changed: the person's stated intention when the result was handed back (recorded by the
-- technician) and what happened afterwards (told by the person with their code). Fixed lists only, never free text;
-- tied to the sample alone.
CREATE TABLE result_feedback (
    sample_id    INTEGER PRIMARY KEY REFERENCES samples(id),
    intention    TEXT CHECK (intention IN ('as_planned', 'take_less', 'not_use', 'lab_test', 'not_stated')),
    intention_ms INTEGER,
    used         INTEGER CHECK (used IN (0, 1)),
    effect       TEXT CHECK (effect IN ('as_expected', 'stronger', 'weaker', 'unexpected')),
    -- A JSON array of fixed codes (sedation, breathing_problems, agitation, overheating, nausea, other).
    unexpected   TEXT,
    outcome_ms   INTEGER
);
