-- The audit trail, copied from the live store (which forgets entries after its retention),
-- keyed by the live store's entry id.
CREATE TABLE audit (
    id BIGINT PRIMARY KEY,
    at_ms BIGINT NOT NULL,
    actor TEXT NOT NULL,
    fleet TEXT,
    document TEXT NOT NULL
);
CREATE INDEX audit_by_actor ON audit (actor, id);
CREATE INDEX audit_by_fleet ON audit (fleet, id);
