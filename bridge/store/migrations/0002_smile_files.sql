-- SMILE inbox files the bridge has processed, so a re-delivered file (same checksum) is recognised and ignored.
CREATE TABLE smile_files (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    file_type     TEXT NOT NULL,
    name          TEXT NOT NULL,
    checksum      TEXT NOT NULL,          -- sha256 of the file's bytes
    size          INTEGER NOT NULL,
    outcome       TEXT NOT NULL,          -- applied | rejected | duplicate | too_large
    records       INTEGER NOT NULL DEFAULT 0,
    problems      INTEGER NOT NULL DEFAULT 0,
    moved_to      TEXT,
    processed_at  TEXT NOT NULL
);
CREATE INDEX smile_files_checksum ON smile_files (file_type, checksum, outcome);
