-- A group commit of registrations bumps the figure weeks of its samples itself, in one statement under the writers'
-- lock, and says so for its transaction (`varde.figure_weeks` = 'bumped'); the row triggers then skip its rows when
-- they are written (a trigger's WHEN is checked at once, even when the trigger is deferred), instead of running a
-- dozen deferred lookups per sample at commit. Every other write still bumps its weeks through the triggers, so no
-- other path can forget them.
DROP TRIGGER figure_weeks_samples ON samples;
DROP TRIGGER figure_weeks_sold_as ON sample_sold_as;
DROP TRIGGER figure_weeks_analyses ON analyses;
DROP TRIGGER figure_weeks_findings ON findings;
DROP TRIGGER figure_weeks_components ON components;

CREATE CONSTRAINT TRIGGER figure_weeks_samples AFTER INSERT OR DELETE OR UPDATE OF received_ms, form, service_id
    ON samples DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (current_setting('varde.figure_weeks', true) IS DISTINCT FROM 'bumped')
    EXECUTE FUNCTION figure_weeks_samples();
CREATE CONSTRAINT TRIGGER figure_weeks_sold_as AFTER INSERT OR DELETE
    ON sample_sold_as DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (current_setting('varde.figure_weeks', true) IS DISTINCT FROM 'bumped')
    EXECUTE FUNCTION figure_weeks_by_sample();
CREATE CONSTRAINT TRIGGER figure_weeks_analyses AFTER INSERT OR DELETE OR UPDATE OF superseded_by
    ON analyses DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (current_setting('varde.figure_weeks', true) IS DISTINCT FROM 'bumped')
    EXECUTE FUNCTION figure_weeks_by_sample();
CREATE CONSTRAINT TRIGGER figure_weeks_findings AFTER INSERT OR DELETE OR UPDATE OF current, tier, rule
    ON findings DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (current_setting('varde.figure_weeks', true) IS DISTINCT FROM 'bumped')
    EXECUTE FUNCTION figure_weeks_by_sample();
CREATE CONSTRAINT TRIGGER figure_weeks_components AFTER INSERT OR DELETE
    ON components DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (current_setting('varde.figure_weeks', true) IS DISTINCT FROM 'bumped')
    EXECUTE FUNCTION figure_weeks_components();
