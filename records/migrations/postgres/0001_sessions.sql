-- Ended charging sessions with their meter series, written once (idempotent by id).
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    driver TEXT,
    fleet TEXT,
    charger TEXT NOT NULL,
    started_ms BIGINT NOT NULL,
    ended_ms BIGINT,
    -- The session (chargegrid_core::session::Session) and its samples, as JSON.
    document TEXT NOT NULL,
    samples TEXT NOT NULL,
    recorded_ms BIGINT NOT NULL
);
CREATE INDEX sessions_by_driver ON sessions (driver, started_ms, id);
CREATE INDEX sessions_by_fleet ON sessions (fleet, started_ms, id);
