-- The figure weeks are bumped when a transaction commits instead of row by row as it goes (deferred constraint
-- triggers; same functions, same versions after commit). A registration writes its sample, analyses and findings
-- before it takes the writers' lock, so it must not hold a week's row lock while waiting for that lock: a writer
-- holding the lock and bumping the same week would wait for it in turn (a deadlock). At commit every writer holds the
-- writers' lock, so the week rows are only ever locked under it.
DROP TRIGGER figure_weeks_samples ON samples;
DROP TRIGGER figure_weeks_sold_as ON sample_sold_as;
DROP TRIGGER figure_weeks_analyses ON analyses;
DROP TRIGGER figure_weeks_findings ON findings;
DROP TRIGGER figure_weeks_feedback ON result_feedback;
DROP TRIGGER figure_weeks_components ON components;
DROP TRIGGER figure_weeks_service_fylke ON services;

CREATE CONSTRAINT TRIGGER figure_weeks_samples AFTER INSERT OR DELETE OR UPDATE OF received_ms, form, service_id
    ON samples DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION figure_weeks_samples();
CREATE CONSTRAINT TRIGGER figure_weeks_sold_as AFTER INSERT OR DELETE
    ON sample_sold_as DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION figure_weeks_by_sample();
CREATE CONSTRAINT TRIGGER figure_weeks_analyses AFTER INSERT OR DELETE OR UPDATE OF superseded_by
    ON analyses DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION figure_weeks_by_sample();
CREATE CONSTRAINT TRIGGER figure_weeks_findings AFTER INSERT OR DELETE OR UPDATE OF current, tier, rule
    ON findings DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION figure_weeks_by_sample();
CREATE CONSTRAINT TRIGGER figure_weeks_feedback AFTER INSERT OR DELETE OR UPDATE
    ON result_feedback DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION figure_weeks_by_sample();
CREATE CONSTRAINT TRIGGER figure_weeks_components AFTER INSERT OR DELETE
    ON components DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION figure_weeks_components();
CREATE CONSTRAINT TRIGGER figure_weeks_service_fylke AFTER UPDATE OF fylke
    ON services DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION figure_weeks_service_fylke();

-- A week is bumped once per transaction, however many of its rows the transaction wrote (a registration writes a
-- dozen): the version only has to change, and every bump runs at commit, under the writers' lock. The weeks already
-- bumped are remembered in a transaction-local setting.
CREATE OR REPLACE FUNCTION bump_figure_week(received BIGINT) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    w BIGINT := div(received, 604800000);
    done TEXT := coalesce(nullif(current_setting('varde.figure_weeks_bumped', true), ''), ',');
BEGIN
    IF position(',' || w || ',' IN done) > 0 THEN
        RETURN;
    END IF;
    INSERT INTO figure_weeks (week, version) VALUES (w, 1)
        ON CONFLICT (week) DO UPDATE SET version = figure_weeks.version + 1;
    PERFORM set_config('varde.figure_weeks_bumped', done || w || ',', true);
END $$;
