-- Public and analysts' figures are counted per week of receipt and kept in memory; this table tells which weeks
-- changed, so a renewal reads only those weeks' samples and never the whole history.
--
-- A "week" here is a partition, not a calendar week: received_ms / 604800000, whole weeks since the epoch in UTC
-- (Thursday to Thursday). The figures themselves use ISO weeks in Norwegian time, computed per sample.
--
-- The triggers bump a week's version in the same transaction as any change to what the figures read (samples, what
-- they were sold as, analyses and their components, findings, result feedback), so no write path can forget it.
CREATE TABLE figure_weeks (
    week     INTEGER PRIMARY KEY,
    version  INTEGER NOT NULL
);

INSERT INTO figure_weeks (week, version) SELECT received_ms / 604800000, 1 FROM samples WHERE true GROUP BY 1;

CREATE TRIGGER figure_weeks_sample_insert AFTER INSERT ON samples BEGIN
    INSERT INTO figure_weeks (week, version) VALUES (NEW.received_ms / 604800000, 1)
        ON CONFLICT (week) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER figure_weeks_sample_update AFTER UPDATE OF received_ms, form, service_id ON samples BEGIN
    INSERT INTO figure_weeks (week, version) VALUES (OLD.received_ms / 604800000, 1)
        ON CONFLICT (week) DO UPDATE SET version = version + 1;
    INSERT INTO figure_weeks (week, version) VALUES (NEW.received_ms / 604800000, 1)
        ON CONFLICT (week) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER figure_weeks_sample_delete AFTER DELETE ON samples BEGIN
    INSERT INTO figure_weeks (week, version) VALUES (OLD.received_ms / 604800000, 1)
        ON CONFLICT (week) DO UPDATE SET version = version + 1;
END;
-- A service moved to another fylke changes every week it has samples in.
CREATE TRIGGER figure_weeks_service_fylke AFTER UPDATE OF fylke ON services BEGIN
    UPDATE figure_weeks SET version = version + 1;
END;

CREATE TRIGGER figure_weeks_sold_as_insert AFTER INSERT ON sample_sold_as BEGIN
    INSERT INTO figure_weeks (week, version) SELECT received_ms / 604800000, 1 FROM samples WHERE id = NEW.sample_id
        ON CONFLICT (week) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER figure_weeks_sold_as_delete AFTER DELETE ON sample_sold_as BEGIN
    INSERT INTO figure_weeks (week, version) SELECT received_ms / 604800000, 1 FROM samples WHERE id = OLD.sample_id
        ON CONFLICT (week) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER figure_weeks_analysis_insert AFTER INSERT ON analyses BEGIN
    INSERT INTO figure_weeks (week, version) SELECT received_ms / 604800000, 1 FROM samples WHERE id = NEW.sample_id
        ON CONFLICT (week) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER figure_weeks_analysis_update AFTER UPDATE OF superseded_by ON analyses BEGIN
    INSERT INTO figure_weeks (week, version) SELECT received_ms / 604800000, 1 FROM samples WHERE id = NEW.sample_id
        ON CONFLICT (week) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER figure_weeks_analysis_delete AFTER DELETE ON analyses BEGIN
    INSERT INTO figure_weeks (week, version) SELECT received_ms / 604800000, 1 FROM samples WHERE id = OLD.sample_id
        ON CONFLICT (week) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER figure_weeks_component_insert AFTER INSERT ON components BEGIN
    INSERT INTO figure_weeks (week, version)
        SELECT s.received_ms / 604800000, 1 FROM analyses a JOIN samples s ON s.id = a.sample_id WHERE a.id = NEW.analysis_id
        ON CONFLICT (week) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER figure_weeks_component_delete AFTER DELETE ON components BEGIN
    INSERT INTO figure_weeks (week, version)
        SELECT s.received_ms / 604800000, 1 FROM analyses a JOIN samples s ON s.id = a.sample_id WHERE a.id = OLD.analysis_id
        ON CONFLICT (week) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER figure_weeks_finding_insert AFTER INSERT ON findings BEGIN
    INSERT INTO figure_weeks (week, version) SELECT received_ms / 604800000, 1 FROM samples WHERE id = NEW.sample_id
        ON CONFLICT (week) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER figure_weeks_finding_update AFTER UPDATE OF current, tier, rule ON findings BEGIN
    INSERT INTO figure_weeks (week, version) SELECT received_ms / 604800000, 1 FROM samples WHERE id = NEW.sample_id
        ON CONFLICT (week) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER figure_weeks_finding_delete AFTER DELETE ON findings BEGIN
    INSERT INTO figure_weeks (week, version) SELECT received_ms / 604800000, 1 FROM samples WHERE id = OLD.sample_id
        ON CONFLICT (week) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER figure_weeks_feedback_insert AFTER INSERT ON result_feedback BEGIN
    INSERT INTO figure_weeks (week, version) SELECT received_ms / 604800000, 1 FROM samples WHERE id = NEW.sample_id
        ON CONFLICT (week) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER figure_weeks_feedback_update AFTER UPDATE ON result_feedback BEGIN
    INSERT INTO figure_weeks (week, version) SELECT received_ms / 604800000, 1 FROM samples WHERE id = NEW.sample_id
        ON CONFLICT (week) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER figure_weeks_feedback_delete AFTER DELETE ON result_feedback BEGIN
    INSERT INTO figure_weeks (week, version) SELECT received_ms / 604800000, 1 FROM samples WHERE id = OLD.sample_id
        ON CONFLICT (week) DO UPDATE SET version = version + 1;
END;
