-- +goose Up
-- The timeline: every change to a room is an entry of its log with the
-- room's next seq (rooms.last_seq). A message's entry is its messages row
-- (seq); every other entry (an edit, a delete, a reaction added or removed)
-- is a timeline_changes row. The two together number 1..last_seq without
-- gaps.
ALTER TABLE users
  ADD COLUMN share_read_receipts BOOLEAN NOT NULL DEFAULT TRUE;

-- change_count is how many timeline_changes rows the room has, so the
-- messages after a seq count without reading them: (last_seq - seq) minus
-- the changes after seq.
ALTER TABLE rooms
  ADD COLUMN change_count BIGINT NOT NULL DEFAULT 0;

-- read_seq is the member's read watermark.
ALTER TABLE memberships
  ADD COLUMN read_seq BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN muted BOOLEAN NOT NULL DEFAULT FALSE;

-- A deleted message keeps its row (its seq is a log entry) with an empty
-- body. The key counts a member's own live messages after a watermark.
ALTER TABLE messages
  ADD COLUMN reply_to_seq BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN edited_at DATETIME(6) NULL,
  ADD COLUMN deleted BOOLEAN NOT NULL DEFAULT FALSE,
  ADD KEY messages_room_sender (room_id, sender_id, deleted, seq);

CREATE TABLE timeline_changes (
  room_id     BIGINT      NOT NULL,
  seq         BIGINT      NOT NULL,
  -- 1, 2, 3… among the room's changes: the changes up to a seq are the
  -- change_no of the last one at or below it.
  change_no   BIGINT      NOT NULL,
  -- 2 edited, 3 deleted, 4 reaction added, 5 reaction removed.
  kind        TINYINT     NOT NULL,
  message_seq BIGINT      NOT NULL,
  -- Who made the change.
  user_id     BIGINT      NOT NULL,
  emoji       VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL DEFAULT '',
  created_at  DATETIME(6) NOT NULL,
  PRIMARY KEY (room_id, seq),
  -- Counts the deletes of messages after a watermark.
  KEY timeline_changes_kind (room_id, kind, message_seq),
  CONSTRAINT timeline_changes_room FOREIGN KEY (room_id) REFERENCES rooms (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The bodies a message had before each edit; deleted with the message.
CREATE TABLE message_edits (
  room_id     BIGINT      NOT NULL,
  message_seq BIGINT      NOT NULL,
  -- The seq of the edit that replaced this body.
  edit_seq    BIGINT      NOT NULL,
  body        TEXT        NOT NULL,
  replaced_at DATETIME(6) NOT NULL,
  PRIMARY KEY (room_id, message_seq, edit_seq),
  CONSTRAINT message_edits_room FOREIGN KEY (room_id) REFERENCES rooms (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The current reactions; seq is the entry that added each.
CREATE TABLE reactions (
  room_id     BIGINT      NOT NULL,
  message_seq BIGINT      NOT NULL,
  emoji       VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  user_id     BIGINT      NOT NULL,
  seq         BIGINT      NOT NULL,
  PRIMARY KEY (room_id, message_seq, emoji, user_id),
  CONSTRAINT reactions_room FOREIGN KEY (room_id) REFERENCES rooms (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Who a message mentions: user_id 0 is @room. sender_id is the message's,
-- so a member's mention count skips their own messages without a join.
-- Deleted with the message.
CREATE TABLE mentions (
  room_id   BIGINT  NOT NULL,
  seq       BIGINT  NOT NULL,
  user_id   BIGINT  NOT NULL,
  sender_id BIGINT  NOT NULL,
  -- The order of the mentions in the body.
  position  INT     NOT NULL,
  PRIMARY KEY (room_id, user_id, seq),
  KEY mentions_message (room_id, seq),
  CONSTRAINT mentions_room FOREIGN KEY (room_id) REFERENCES rooms (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE mentions;
DROP TABLE reactions;
DROP TABLE message_edits;
DROP TABLE timeline_changes;
ALTER TABLE messages DROP KEY messages_room_sender, DROP COLUMN deleted, DROP COLUMN edited_at, DROP COLUMN reply_to_seq;
ALTER TABLE memberships DROP COLUMN muted, DROP COLUMN read_seq;
ALTER TABLE rooms DROP COLUMN change_count;
ALTER TABLE users DROP COLUMN share_read_receipts;
