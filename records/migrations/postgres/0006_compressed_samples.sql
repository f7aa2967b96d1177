-- Meter series compressed (zlib over the JSON), as on SQLite (PostgreSQL's TOAST compressed
-- them too; one format for both keeps one code path). Rows written before keep theirs in
-- `samples`.
ALTER TABLE sessions ADD COLUMN samples_z BYTEA;
