-- Tenants may ask for an account through the API; an operator approves it (the operator also
-- admits the account to the central bus policy). Until then the account resolves to no tenant,
-- so claiming somebody else's account id reveals none of their events.

ALTER TABLE dd0c.connected_accounts
    ADD COLUMN approved_at   timestamptz DEFAULT now(),  -- operator connections are approved at once
    ADD COLUMN requested_via text NOT NULL DEFAULT 'operator' CHECK (requested_via IN ('operator', 'api'));
UPDATE dd0c.connected_accounts SET approved_at = created_at;

CREATE OR REPLACE FUNCTION dd0c.tenant_for_account(p_account_id text) RETURNS uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, dd0c
    AS $$ SELECT tenant_id FROM dd0c.connected_accounts WHERE account_id = p_account_id AND approved_at IS NOT NULL $$;

-- The API's door: the current transaction's tenant asks for an account. Returns the account's
-- ExternalId and regions; refuses an account another tenant holds (pending or approved).
CREATE FUNCTION dd0c.request_account(p_account_id text, p_regions text[])
    RETURNS TABLE (external_id text, regions text[], approved boolean, created boolean)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, dd0c
    AS $$
DECLARE
    v_tenant uuid := dd0c.current_tenant();
    v_row dd0c.connected_accounts%ROWTYPE;
BEGIN
    IF v_tenant IS NULL THEN
        RAISE EXCEPTION 'no tenant in this transaction' USING ERRCODE = 'insufficient_privilege';
    END IF;
    INSERT INTO dd0c.connected_accounts AS c (account_id, tenant_id, external_id, regions, approved_at, requested_via)
    VALUES (p_account_id, v_tenant, replace(gen_random_uuid()::text, '-', ''), p_regions, NULL, 'api')
    ON CONFLICT (account_id) DO NOTHING
    RETURNING c.* INTO v_row;
    IF FOUND THEN
        RETURN QUERY SELECT v_row.external_id, v_row.regions, false, true;
        RETURN;
    END IF;
    SELECT c.* INTO v_row FROM dd0c.connected_accounts c WHERE c.account_id = p_account_id FOR UPDATE;
    IF v_row.tenant_id <> v_tenant THEN
        RAISE EXCEPTION 'account % is already connected to another tenant', p_account_id USING ERRCODE = 'unique_violation';
    END IF;
    UPDATE dd0c.connected_accounts c
       SET regions = c.regions || ARRAY(SELECT r FROM unnest(p_regions) AS r WHERE NOT r = ANY (c.regions))
     WHERE c.account_id = p_account_id
    RETURNING c.* INTO v_row;
    RETURN QUERY SELECT v_row.external_id, v_row.regions, v_row.approved_at IS NOT NULL, false;
END
$$;
ALTER FUNCTION dd0c.request_account(text, text[]) OWNER TO dd0c_operator;
REVOKE ALL ON FUNCTION dd0c.request_account(text, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dd0c.request_account(text, text[]) TO dd0c_app;
GRANT SELECT (approved_at, requested_via) ON dd0c.connected_accounts TO dd0c_app;
