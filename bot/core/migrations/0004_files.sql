-- Files behind signed download links (exports, forms), so that a link made on one instance
-- downloads from any other. Rows live for the link's hour; expired rows go on the next write.
CREATE TABLE elaas_files (
    id text PRIMARY KEY,
    owner text NOT NULL DEFAULT '',
    filename text NOT NULL,
    mime_type text NOT NULL,
    data bytea NOT NULL,
    size integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    expires_at timestamptz NOT NULL
);

CREATE INDEX elaas_files_expiry ON elaas_files (expires_at);
CREATE INDEX elaas_files_owner ON elaas_files (owner, created_at) WHERE owner <> '';
