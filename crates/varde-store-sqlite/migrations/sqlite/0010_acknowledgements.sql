-- A service's technician says a published warning was seen and passed on. One row per alert and service: the first
-- acknowledgement counts (time to acknowledgement is measured from the alert's publication).
CREATE TABLE alert_acknowledgements (
    alert_id        INTEGER NOT NULL REFERENCES alerts(id),
    service_id      INTEGER NOT NULL REFERENCES services(id),
    acknowledged_ms INTEGER NOT NULL,
    actor           TEXT NOT NULL,
    PRIMARY KEY (alert_id, service_id)
);
