-- +goose Up
-- Running numbers, so a member's unread count is a few key lookups
-- whatever the room's size (store/readstate.go):
--
--   unread = entries after read_seq               last_seq - read_seq
--          - changes after it                     change_count - read_changes
--          - own messages after it                the member's last sender_no - read_own
--          - others' deleted messages after it    unread_deleted
--
-- sender_no numbers the sender's messages in the room 1, 2, 3…
ALTER TABLE messages
  ADD COLUMN sender_no BIGINT NOT NULL DEFAULT 0,
  DROP KEY messages_room_sender,
  ADD KEY messages_room_sender (room_id, sender_id, seq, sender_no);

UPDATE messages m
JOIN (SELECT id, ROW_NUMBER() OVER (PARTITION BY room_id, sender_id ORDER BY seq) AS sender_no
  FROM messages) n ON n.id = m.id
SET m.sender_no = n.sender_no;

-- What a member's watermark leaves behind it and before it, kept by every
-- write that changes them (a move of the watermark, a delete, a message or
-- edit that mentions): read_changes and read_own are the changes and the
-- member's own messages at or before read_seq; unread_deleted the deleted messages of others after it;
-- unread_mentions the live messages of others after it that mention the
-- member or @room (the mention count itself).
ALTER TABLE memberships
  ADD COLUMN read_changes BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN read_own BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN unread_deleted BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN unread_mentions BIGINT NOT NULL DEFAULT 0;

UPDATE memberships m SET
  read_changes = (SELECT COUNT(*) FROM timeline_changes x WHERE x.room_id = m.room_id AND x.seq <= m.read_seq),
  read_own = (SELECT COUNT(*) FROM messages x
    WHERE x.room_id = m.room_id AND x.sender_id = m.user_id AND x.seq <= m.read_seq),
  unread_deleted = (SELECT COUNT(*) FROM messages x
    WHERE x.room_id = m.room_id AND x.sender_id <> m.user_id AND x.deleted AND x.seq > m.read_seq),
  unread_mentions = (SELECT COUNT(DISTINCT n.seq) FROM mentions n
    WHERE n.room_id = m.room_id AND n.user_id IN (m.user_id, 0) AND n.sender_id <> m.user_id AND n.seq > m.read_seq);

-- member_count saves counting every room's members for every room list:
-- kept by joins and leaves, under the room row's lock.
ALTER TABLE rooms ADD COLUMN member_count BIGINT NOT NULL DEFAULT 0;
UPDATE rooms r SET member_count = (SELECT COUNT(*) FROM memberships m WHERE m.room_id = r.id);

-- +goose Down
ALTER TABLE rooms DROP COLUMN member_count;
ALTER TABLE memberships DROP COLUMN unread_mentions, DROP COLUMN unread_deleted, DROP COLUMN read_own, DROP COLUMN read_changes;
ALTER TABLE messages
  DROP KEY messages_room_sender,
  ADD KEY messages_room_sender (room_id, sender_id, deleted, seq),
  DROP COLUMN sender_no;
