-- ---------------------------------------------------------------------------
-- authdb_email_canonical_domain(p_domain) -> the domain's canonical Unicode
-- form (step 4 above), or AU005 naming the label at fault.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION authdb_email_canonical_domain(p_domain text)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE
STRICT
PARALLEL SAFE
SET search_path FROM CURRENT
AS $function$
DECLARE
    v_domain  text := authdb_email_map_domain(p_domain);
    v_label   text;
    v_decoded text;
    v_labels  text[] := ARRAY[]::text[];
BEGIN
    -- A single trailing dot is the DNS root: mail servers ignore it.
    IF pg_catalog.right(v_domain, 1) OPERATOR(pg_catalog.=) '.'::text THEN
        v_domain := pg_catalog.left(v_domain, -1);
    END IF;

    IF v_domain OPERATOR(pg_catalog.=) ''::text THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU005',
            MESSAGE = pg_catalog.format('p_email: domain %s is not valid', authdb_quote_for_message(p_domain)),
            DETAIL  = 'The domain (after "@") must not be empty once a trailing dot is dropped.';
    END IF;

    FOREACH v_label IN ARRAY pg_catalog.string_to_array(v_domain, '.'::text) LOOP
        IF v_label OPERATOR(pg_catalog.=) ''::text THEN
            RAISE EXCEPTION USING
                ERRCODE = 'AU005',
                MESSAGE = pg_catalog.format('p_email: domain %s has an empty label', authdb_quote_for_message(p_domain)),
                DETAIL  = 'Labels are separated by single dots; only one trailing dot is allowed (and dropped).';
        END IF;

        -- 63 characters, the DNS limit of a label, once mapped (and so in
        -- the canonical form: decoding only shortens a label).  Also bounds
        -- the punycode decoder's input.
        IF pg_catalog.char_length(v_label) OPERATOR(pg_catalog.>) 63 THEN
            RAISE EXCEPTION USING
                ERRCODE = 'AU005',
                MESSAGE = 'p_email: each domain label must be at most 63 characters',
                DETAIL  = pg_catalog.format('The domain %s, mapped as IDNA does (NFKC, lower case), has a label of %s characters.',
                                            authdb_quote_for_message(p_domain), pg_catalog.char_length(v_label));
        END IF;

        IF pg_catalog.left(v_label, 4) OPERATOR(pg_catalog.=) 'xn--'::text THEN
            v_decoded := authdb_punycode_decode(v_label);
            IF v_decoded OPERATOR(pg_catalog.!~) E'[^\\x01-\\x7f]'::text THEN
                RAISE EXCEPTION USING
                    ERRCODE = 'AU005',
                    MESSAGE = pg_catalog.format('p_email: domain label %s decodes to the ASCII label %s', authdb_quote_for_message(v_label), authdb_quote_for_message(v_decoded)),
                    DETAIL  = 'An ACE label must stand for a label with non-ASCII characters (IDNA).',
                    HINT    = 'Write the label as plain ASCII.';
            END IF;
            IF v_decoded OPERATOR(pg_catalog.~) authdb_email_unassigned_pattern() THEN
                RAISE EXCEPTION USING
                    ERRCODE = 'AU005',
                    MESSAGE = pg_catalog.format('p_email: domain label %s decodes to a code point that is not a character of Unicode 13.0', authdb_quote_for_message(v_label));
            END IF;
            IF pg_catalog.substr(v_decoded, 3, 2) OPERATOR(pg_catalog.=) '--'::text
               OR authdb_email_map_domain(v_decoded) OPERATOR(pg_catalog.<>) v_decoded THEN
                RAISE EXCEPTION USING
                    ERRCODE = 'AU005',
                    MESSAGE = pg_catalog.format('p_email: domain label %s decodes to %s, which is not a valid internationalized label', authdb_quote_for_message(v_label), authdb_quote_for_message(v_decoded)),
                    DETAIL  = 'The Unicode form of an ACE label must already be mapped (NFKC, lower case, no "." or "@") and must not have "--" in its 3rd and 4th characters (IDNA, UTS #46 validity criteria).';
            END IF;
            v_label := v_decoded;
        END IF;

        v_labels := v_labels OPERATOR(pg_catalog.||) v_label;
    END LOOP;

    RETURN pg_catalog.array_to_string(v_labels, '.'::text);
END;
$function$;

COMMENT ON FUNCTION authdb_email_canonical_domain(text) IS
    'Private. The canonical Unicode form of an e-mail domain (UTS #46 mapping approximated as NFKC + lower case, ACE labels decoded, one trailing dot dropped); AU005 if a label is empty or an ACE label is invalid.';
REVOKE EXECUTE ON FUNCTION authdb_email_canonical_domain(text) FROM PUBLIC;
