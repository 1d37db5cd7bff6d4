-- +goose Up
-- Files (issue 17): uploads, attached to at most one message, and the
-- blobs waiting to be deleted from the store.

-- An upload's bytes are in the blob store under its id (and id + '.t' for
-- an image's thumbnail). room_id and message_seq are NULL until SendMessage
-- attaches it; uploads still NULL after a day are swept. kind: 1 file,
-- 2 image, 3 voice. user_id keys the quota's SUM(size).
CREATE TABLE uploads (
  id CHAR(32) CHARACTER SET ascii NOT NULL,
  user_id BIGINT NOT NULL,
  kind TINYINT NOT NULL,
  filename VARCHAR(255) NOT NULL,
  content_type VARCHAR(127) CHARACTER SET ascii NOT NULL,
  size BIGINT NOT NULL,
  width INT NOT NULL DEFAULT 0,
  height INT NOT NULL DEFAULT 0,
  duration_ms BIGINT NOT NULL DEFAULT 0,
  waveform VARBINARY(64) NOT NULL DEFAULT '',
  has_thumb BOOLEAN NOT NULL DEFAULT FALSE,
  created_at DATETIME(6) NOT NULL,
  room_id BIGINT NULL,
  message_seq BIGINT NULL,
  position TINYINT NOT NULL DEFAULT 0,
  PRIMARY KEY (id),
  KEY uploads_user (user_id),
  KEY uploads_message (room_id, message_seq, position),
  KEY uploads_unattached (room_id, created_at),
  CONSTRAINT uploads_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Blobs to delete, with any thumbnail (key + '.t'): a deleted message's
-- uploads, swept uploads, replaced avatars. Deleted right after the
-- commit that queued them, and by the sweeper when that failed (the store
-- was down).
CREATE TABLE blob_trash (
  blob_key VARCHAR(64) CHARACTER SET ascii NOT NULL,
  since DATETIME(6) NOT NULL,
  PRIMARY KEY (blob_key),
  KEY blob_trash_since (since)
) ENGINE=InnoDB;

-- The profile picture's blob key ('av-' and 32 hex digits, never an
-- upload's); '' for none.
ALTER TABLE users ADD COLUMN avatar VARCHAR(64) CHARACTER SET ascii NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE users DROP COLUMN avatar;
DROP TABLE blob_trash;
DROP TABLE uploads;
