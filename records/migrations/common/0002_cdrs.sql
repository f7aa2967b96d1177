-- Charge detail records (chargegrid_core::cdr::Cdr as JSON), immutable: a correction is a new
-- row naming the one it corrects. Written once (idempotent by id).
CREATE TABLE cdrs (
    id TEXT PRIMARY KEY,
    session TEXT NOT NULL,
    driver TEXT,
    fleet TEXT,
    site TEXT NOT NULL,
    started_ms BIGINT NOT NULL,
    issued_ms BIGINT NOT NULL,
    document TEXT NOT NULL
);
CREATE INDEX cdrs_by_started ON cdrs (started_ms, id);
CREATE INDEX cdrs_by_driver ON cdrs (driver, started_ms);
CREATE INDEX cdrs_by_fleet ON cdrs (fleet, started_ms);
CREATE INDEX cdrs_by_site ON cdrs (site, started_ms);
CREATE INDEX cdrs_by_session ON cdrs (session);
