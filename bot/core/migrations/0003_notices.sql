-- Broadcasts across instances: frozen delivery plans, their journals, shared channel budgets.

-- A notice's audience, frozen the first time an instance plans it (first writer wins).
CREATE TABLE elaas_notice_plans (
    notice text PRIMARY KEY,
    plan jsonb NOT NULL,
    made_at timestamptz NOT NULL DEFAULT now()
);

-- What was sent, append-only, written by the instance holding the notice's advisory lock
-- through the very session that holds it (a sender whose session died cannot write "sending").
CREATE TABLE elaas_notice_journal (
    notice text NOT NULL,
    seq bigserial,
    rec jsonb NOT NULL,
    at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (notice, seq)
);

-- Token buckets shared by every instance (channel rate limits hold across instances).
CREATE TABLE elaas_rate_buckets (
    name text PRIMARY KEY,
    tokens double precision NOT NULL,
    at timestamptz NOT NULL
);

-- Take up to p_want tokens from bucket p_name (refilled at p_rate per second up to p_burst):
-- how many were granted, and when none were, how many seconds until the next one.
CREATE FUNCTION elaas_take_tokens(p_name text, p_rate float8, p_burst float8, p_want int,
                                  OUT granted int, OUT wait float8) AS $$
DECLARE
    now_ts timestamptz := clock_timestamp();
    have float8;
BEGIN
    INSERT INTO elaas_rate_buckets (name, tokens, at) VALUES (p_name, p_burst, now_ts)
        ON CONFLICT (name) DO NOTHING;
    SELECT least(p_burst, b.tokens + p_rate * extract(epoch FROM now_ts - b.at))
        INTO have FROM elaas_rate_buckets b WHERE b.name = p_name FOR UPDATE;
    granted := greatest(0, least(p_want, floor(have)::int));
    UPDATE elaas_rate_buckets SET tokens = have - granted, at = now_ts WHERE name = p_name;
    wait := CASE WHEN granted > 0 THEN 0 ELSE (1 - have) / p_rate END;
END
$$ LANGUAGE plpgsql;
