-- +goose Up
-- Parley's own search index (internal/search makes the terms): one row per
-- term of a live message, written in the message's transaction and
-- rewritten or deleted with its edit or delete. Terms are words of
-- alphabetic scripts and bigrams (and each run's last character) of CJK
-- text, NFKC- and case-folded, compared as bytes, so a word prefix is a
-- range of the key. The key leads with the term, then the newest-first
-- sort key, so a term's newest hits are read in index order; created_at,
-- room_id and sender_id are copied from the message so the filters need
-- no join. weight is the term's occurrences per million characters of the
-- body, summed for relevance. Works alike on MySQL 8.4 and MariaDB 10.11:
-- no FULLTEXT, no ngram parser, no server settings.
CREATE TABLE message_terms (
  term       VARBINARY(64) NOT NULL,
  created_at DATETIME(6)   NOT NULL,
  room_id    BIGINT        NOT NULL,
  seq        BIGINT        NOT NULL,
  sender_id  BIGINT        NOT NULL,
  weight     INT           NOT NULL,
  PRIMARY KEY (term, created_at, room_id, seq),
  -- A message's terms: to check a candidate's other terms, to rewrite or
  -- delete them.
  KEY message_terms_message (room_id, seq, term),
  CONSTRAINT message_terms_room FOREIGN KEY (room_id) REFERENCES rooms (id) ON DELETE CASCADE
) ENGINE=InnoDB;

-- The messages stored before this migration are indexed in the background,
-- newest first (store.IndexBacklog); those with an id below `below` may
-- still be missing. Later messages are indexed as they are stored.
CREATE TABLE search_backlog (
  id    TINYINT NOT NULL,
  below BIGINT  NOT NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB;
INSERT INTO search_backlog (id, below) SELECT 1, COALESCE(MAX(id), 0) + 1 FROM messages;

-- +goose Down
DROP TABLE search_backlog;
DROP TABLE message_terms;
