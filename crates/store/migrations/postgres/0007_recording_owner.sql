-- The key that stored a recording: its transcription spends that key's audio quota.
ALTER TABLE recordings ADD COLUMN owner TEXT;
