-- Vehicle health reports over time: one per vehicle and the time of the newest data it used
-- (a rebuild on the same data replaces it), so SoH trends reach back past the live store.
CREATE TABLE health_reports (
    vehicle TEXT NOT NULL,
    as_of_ms BIGINT NOT NULL,
    fleet TEXT,
    document TEXT NOT NULL,
    PRIMARY KEY (vehicle, as_of_ms)
);
