-- A web session is a session (revoked by logout, deactivation and password change exactly as
-- API sessions are) carried in a cookie instead of tokens. The cookie's value is stored only
-- as its SHA-256; the CSRF token goes into every form of the session's pages.
CREATE TABLE web_sessions (
    cookie_hash TEXT PRIMARY KEY NOT NULL,
    session_id TEXT NOT NULL UNIQUE REFERENCES sessions (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    last_seen_at TIMESTAMP(6) NOT NULL
);
