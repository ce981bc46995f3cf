-- A valid PDF whose text no extractor could decode is stored as `text_unreadable` (verified by
-- hand) instead of being refused.
ALTER TABLE documents DROP CONSTRAINT documents_text_status_check;
ALTER TABLE documents ADD CONSTRAINT documents_text_status_check
    CHECK (text_status IN ('ok', 'partial', 'no_text', 'text_unreadable'));
