-- authdb migration 20261125000003_email_verification_tokens (down)
--
-- Reverts 20261125000003_email_verification_tokens.up.sql, in reverse order
-- of creation (constraints and the identity sequence go with the table).
-- Every outstanding token becomes unusable: users have to request new ones.

DROP INDEX email_verification_tokens_ended_at_idx;
DROP INDEX email_verification_tokens_user_id_idx;
DROP TABLE email_verification_tokens;
