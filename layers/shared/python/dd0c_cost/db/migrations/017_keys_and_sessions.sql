-- API keys become scoped (read | write), named, expiring and revocable with their last use
-- recorded; the console exchanges a key for a short-lived session (HttpOnly cookie + CSRF token).
-- Indexes for the dashboard's anomaly list (keyset pagination per sort).

ALTER TABLE dd0c.api_keys
    ADD COLUMN scope        text NOT NULL DEFAULT 'write' CHECK (scope IN ('read', 'write')),
    ADD COLUMN name         text CHECK (length(name) <= 200),
    ADD COLUMN expires_at   timestamptz,
    ADD COLUMN last_used_at timestamptz;
GRANT SELECT, INSERT, UPDATE, DELETE ON dd0c.api_keys TO dd0c_operator;

CREATE TABLE dd0c.console_sessions (
    token_hash  bytea PRIMARY KEY,               -- sha256 of the cookie's secret
    tenant_id   uuid NOT NULL REFERENCES dd0c.tenants(id) ON DELETE CASCADE,
    key_id      uuid NOT NULL REFERENCES dd0c.api_keys(id) ON DELETE CASCADE,
    scope       text NOT NULL CHECK (scope IN ('read', 'write')),
    csrf_token  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    ended_at    timestamptz
);
CREATE INDEX console_sessions_key ON dd0c.console_sessions (key_id);
SELECT dd0c.protect_tenant_table('dd0c.console_sessions');
GRANT SELECT, INSERT, UPDATE, DELETE ON dd0c.console_sessions TO dd0c_operator;
GRANT SELECT ON dd0c.console_sessions TO dd0c_app;

-- A key is valid while not revoked and not expired (wall time: credentials, not events).
CREATE OR REPLACE FUNCTION dd0c.tenant_for_api_key(p_key_hash bytea) RETURNS uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, dd0c
    AS $$ SELECT tenant_id FROM dd0c.api_keys
          WHERE key_hash = p_key_hash AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now()) $$;

-- Who a key is, recording its use (at most once a minute per key, to keep reads cheap).
CREATE FUNCTION dd0c.authenticate_api_key(p_key_hash bytea)
    RETURNS TABLE (tenant_id uuid, key_id uuid, scope text, expires_at timestamptz)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, dd0c
    AS $$
BEGIN
    RETURN QUERY
    UPDATE dd0c.api_keys k SET last_used_at = now()
     WHERE k.key_hash = p_key_hash AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())
       AND (k.last_used_at IS NULL OR k.last_used_at < now() - interval '60 seconds')
    RETURNING k.tenant_id, k.id, k.scope, k.expires_at;
    IF NOT FOUND THEN
        RETURN QUERY SELECT k.tenant_id, k.id, k.scope, k.expires_at FROM dd0c.api_keys k
         WHERE k.key_hash = p_key_hash AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now());
    END IF;
END
$$;

-- The console's sign-in: a valid key opens a session of at most the key's remaining life.
CREATE FUNCTION dd0c.open_console_session(p_key_hash bytea, p_token_hash bytea, p_csrf text, p_ttl_s integer)
    RETURNS TABLE (tenant_id uuid, key_id uuid, scope text, expires_at timestamptz)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, dd0c
    AS $$
DECLARE
    v_key record;
BEGIN
    SELECT * INTO v_key FROM dd0c.authenticate_api_key(p_key_hash) LIMIT 1;
    IF v_key IS NULL OR v_key.tenant_id IS NULL THEN
        RETURN;
    END IF;
    RETURN QUERY
    INSERT INTO dd0c.console_sessions AS s (token_hash, tenant_id, key_id, scope, csrf_token, expires_at)
    VALUES (p_token_hash, v_key.tenant_id, v_key.key_id, v_key.scope, p_csrf,
            least(now() + make_interval(secs => p_ttl_s), coalesce(v_key.expires_at, 'infinity')))
    RETURNING s.tenant_id, s.key_id, s.scope, s.expires_at;
END
$$;

-- A session is valid while it has not ended or expired and its key is still valid.
CREATE FUNCTION dd0c.authenticate_console_session(p_token_hash bytea)
    RETURNS TABLE (tenant_id uuid, key_id uuid, scope text, csrf_token text, expires_at timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, dd0c
    AS $$ SELECT s.tenant_id, s.key_id, s.scope, s.csrf_token, s.expires_at
          FROM dd0c.console_sessions s JOIN dd0c.api_keys k ON k.id = s.key_id
          WHERE s.token_hash = p_token_hash AND s.ended_at IS NULL AND s.expires_at > now()
            AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now()) $$;

CREATE FUNCTION dd0c.end_console_session(p_token_hash bytea) RETURNS void
    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, dd0c
    AS $$ UPDATE dd0c.console_sessions SET ended_at = now() WHERE token_hash = p_token_hash AND ended_at IS NULL $$;

DO $$
DECLARE
    f text;
BEGIN
    FOREACH f IN ARRAY ARRAY['dd0c.authenticate_api_key(bytea)', 'dd0c.open_console_session(bytea, bytea, text, integer)',
                             'dd0c.authenticate_console_session(bytea)', 'dd0c.end_console_session(bytea)'] LOOP
        EXECUTE format('ALTER FUNCTION %s OWNER TO dd0c_operator', f);
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO dd0c_app', f);
    END LOOP;
END
$$;
ALTER FUNCTION dd0c.tenant_for_api_key(bytea) OWNER TO dd0c_operator;

-- The dashboard's anomaly list: one keyset index per sort (tenant first: RLS adds tenant_id = ...).
CREATE INDEX anomalies_tenant_detected_id ON dd0c.anomalies (tenant_id, detected_at DESC, id DESC);
CREATE INDEX anomalies_tenant_usd_id ON dd0c.anomalies (tenant_id, estimated_hourly_usd DESC, id DESC);
CREATE INDEX anomalies_tenant_score_id ON dd0c.anomalies (tenant_id, score DESC, id DESC);
CREATE INDEX anomalies_tenant_status_detected ON dd0c.anomalies (tenant_id, status, detected_at DESC, id DESC);
DROP INDEX dd0c.anomalies_tenant_detected;
