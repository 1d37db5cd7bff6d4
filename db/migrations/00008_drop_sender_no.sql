-- +goose Up
-- room_senders counts each sender's messages, and a watermark's own count
-- (read_own) is a COUNT of an index range, so nothing reads sender_no any
-- more. Numbering each new message made every send batch read
-- room_senders before its insert, under the room row's lock; with the
-- column gone a batch only adds to the counts (docs/PERFORMANCE.md,
-- issue 15's send path).
ALTER TABLE messages
  DROP KEY messages_room_sender,
  ADD KEY messages_room_sender (room_id, sender_id, seq),
  DROP COLUMN sender_no;

-- +goose Down
ALTER TABLE messages
  ADD COLUMN sender_no BIGINT NOT NULL DEFAULT 0,
  DROP KEY messages_room_sender,
  ADD KEY messages_room_sender (room_id, sender_id, seq, sender_no);

UPDATE messages m
JOIN (SELECT id, ROW_NUMBER() OVER (PARTITION BY room_id, sender_id ORDER BY seq) AS sender_no
  FROM messages) n ON n.id = m.id
SET m.sender_no = n.sender_no;
