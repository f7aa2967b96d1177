-- Meter series compressed (zlib over the JSON): SQLite stores text as it is, and a session's
-- samples are about 100 KB of JSON. Rows written before keep theirs in `samples`.
ALTER TABLE sessions ADD COLUMN samples_z BLOB;
