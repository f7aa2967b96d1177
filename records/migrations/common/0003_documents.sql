-- What people entered, for the embedded default (an in-memory live store): accounts, id tags,
-- fleets, vehicles and their models, API keys, sites and chargers, one JSON document each.
CREATE TABLE documents (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    document TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
