UPDATE documents SET text_status = 'no_text' WHERE text_status = 'text_unreadable';
ALTER TABLE documents DROP CONSTRAINT documents_text_status_check;
ALTER TABLE documents ADD CONSTRAINT documents_text_status_check
    CHECK (text_status IN ('ok', 'partial', 'no_text'));
