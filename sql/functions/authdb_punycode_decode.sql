-- ---------------------------------------------------------------------------
-- authdb_punycode_decode(p_label) -> the Unicode label an ACE label
-- ("xn--" + punycode) stands for; AU005 if it is not valid punycode.
-- RFC 3492, section 6.2, with its parameters (base 36, tmin 1, tmax 26,
-- skew 38, damp 700, initial bias 72, initial n 128).  p_label is the whole
-- label, "xn--" included (used in messages).
--
-- Work: the input is read once into an array of code points and the output
-- is kept as an array of code points, turned into text once at the end (in
-- a UTF8 database substr() and length() on text are linear in the string,
-- so calling them per character made the decoder quadratic).  Each decoded
-- code point is inserted into the output array (as RFC 3492's own sample
-- code inserts into its buffer); callers pass labels of at most 63
-- characters (authdb_email_canonical_domain refuses longer ones before
-- decoding), so the whole decode is bounded.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION authdb_punycode_decode(p_label text)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE
STRICT
PARALLEL SAFE
SET search_path FROM CURRENT
AS $function$
DECLARE
    c_base      CONSTANT bigint := 36;
    c_tmin      CONSTANT bigint := 1;
    c_tmax      CONSTANT bigint := 26;
    c_skew      CONSTANT bigint := 38;
    c_damp      CONSTANT bigint := 700;
    c_limit     CONSTANT bigint := 2147483647;  -- no valid label comes near
    v_input     integer[];          -- code points after "xn--"
    v_count     integer;            -- elements of v_input
    v_delimiter integer := 0;       -- position of the last "-" in v_input (0: none)
    v_output    integer[];          -- decoded code points
    v_length    bigint;             -- elements of v_output
    v_pos       integer;            -- next element of v_input (1-based)
    v_n         bigint  := 128;
    v_i         bigint  := 0;
    v_bias      bigint  := 72;
    v_old_i     bigint;
    v_w         bigint;
    v_k         bigint;
    v_t         bigint;
    v_digit     bigint;
    v_code      integer;
    v_delta     bigint;
    v_reason    text;
BEGIN
    v_input := ARRAY(SELECT pg_catalog.ascii(c.ch)
                       FROM pg_catalog.unnest(pg_catalog.string_to_array(pg_catalog.substr(p_label, 5), NULL::text))
                            WITH ORDINALITY AS c (ch, i)
                      ORDER BY c.i);
    v_count := pg_catalog.cardinality(v_input);
    FOR v_at IN REVERSE v_count..1 LOOP
        IF v_input[v_at] OPERATOR(pg_catalog.=) 45 THEN  -- "-"
            v_delimiter := v_at;
            EXIT;
        END IF;
    END LOOP;

    -- Basic code points: everything before the last "-" (none without one).
    IF v_delimiter OPERATOR(pg_catalog.>) 0 THEN
        v_output := v_input[1:v_delimiter - 1];
        v_pos    := v_delimiter + 1;
    ELSE
        v_output := ARRAY[]::integer[];
        v_pos    := 1;
    END IF;
    IF 127 OPERATOR(pg_catalog.<) ANY (v_output) THEN
        v_reason := 'non-ASCII character in an ACE label';
    END IF;
    v_length := pg_catalog.cardinality(v_output);

    WHILE v_reason IS NULL AND v_pos OPERATOR(pg_catalog.<=) v_count LOOP
        -- One generalized variable-length integer: the next delta.
        v_old_i := v_i;
        v_w     := 1;
        v_k     := c_base;
        LOOP
            IF v_pos OPERATOR(pg_catalog.>) v_count THEN
                v_reason := 'truncated delta';
                EXIT;
            END IF;
            v_code := v_input[v_pos];
            v_pos  := v_pos + 1;
            v_digit := CASE
                           WHEN v_code BETWEEN 48 AND 57  THEN v_code - 22   -- 0-9 -> 26-35
                           WHEN v_code BETWEEN 97 AND 122 THEN v_code - 97   -- a-z -> 0-25
                           WHEN v_code BETWEEN 65 AND 90  THEN v_code - 65   -- A-Z -> 0-25
                       END;
            IF v_digit IS NULL THEN
                v_reason := 'character that is not a punycode digit';
                EXIT;
            END IF;
            v_i := v_i + v_digit * v_w;
            IF v_i OPERATOR(pg_catalog.>) c_limit THEN
                v_reason := 'overflow';
                EXIT;
            END IF;
            v_t := CASE
                       WHEN v_k OPERATOR(pg_catalog.<=) v_bias THEN c_tmin
                       WHEN v_k OPERATOR(pg_catalog.>=) v_bias + c_tmax THEN c_tmax
                       ELSE v_k - v_bias
                   END;
            EXIT WHEN v_digit OPERATOR(pg_catalog.<) v_t;
            v_w := v_w * (c_base - v_t);
            IF v_w OPERATOR(pg_catalog.>) c_limit THEN
                v_reason := 'overflow';
                EXIT;
            END IF;
            v_k := v_k + c_base;
        END LOOP;
        EXIT WHEN v_reason IS NOT NULL;

        -- Bias adaptation (RFC 3492, section 6.1).
        v_delta := CASE WHEN v_old_i OPERATOR(pg_catalog.=) 0 THEN (v_i - v_old_i) / c_damp
                        ELSE (v_i - v_old_i) / 2 END;
        v_delta := v_delta + v_delta / (v_length + 1);
        v_k := 0;
        WHILE v_delta OPERATOR(pg_catalog.>) ((c_base - c_tmin) * c_tmax) / 2 LOOP
            v_delta := v_delta / (c_base - c_tmin);
            v_k := v_k + c_base;
        END LOOP;
        v_bias := v_k + ((c_base - c_tmin + 1) * v_delta) / (v_delta + c_skew);

        v_n := v_n + v_i / (v_length + 1);
        v_i := v_i % (v_length + 1);
        IF v_n OPERATOR(pg_catalog.>) 1114111 THEN
            v_reason := 'code point beyond U+10FFFF';
        ELSIF v_n BETWEEN 55296 AND 57343 THEN
            v_reason := 'surrogate code point';
        ELSE
            -- Insert v_n after the first v_i code points.
            v_output := v_output[1:v_i::integer]
                        OPERATOR(pg_catalog.||) v_n::integer
                        OPERATOR(pg_catalog.||) v_output[v_i::integer + 1:v_length::integer];
            v_length := v_length + 1;
            v_i := v_i + 1;
        END IF;
    END LOOP;

    IF v_reason IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU005',
            MESSAGE = pg_catalog.format('p_email: domain label %s is not valid punycode (%s)', authdb_quote_for_message(p_label), v_reason),
            DETAIL  = 'A domain label that starts with "xn--" is an internationalized label in ACE form (RFC 3492); this one cannot be decoded.';
    END IF;
    RETURN pg_catalog.array_to_string(ARRAY(SELECT pg_catalog.chr(o.cp) FROM pg_catalog.unnest(v_output) WITH ORDINALITY AS o (cp, i) ORDER BY o.i), ''::text);
END;
$function$;

COMMENT ON FUNCTION authdb_punycode_decode(text) IS
    'Private. Decodes an ACE label ("xn--" + RFC 3492 punycode) to Unicode; AU005 if it is not valid punycode.';
REVOKE EXECUTE ON FUNCTION authdb_punycode_decode(text) FROM PUBLIC;
