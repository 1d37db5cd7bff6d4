-- name: InsertMessage :execlastid
INSERT INTO messages (room_id, seq, sender_id, body, client_msg_id, created_at)
VALUES (?, ?, ?, ?, ?, ?);

-- name: GetMessageByClientID :one
SELECT m.id, m.room_id, m.seq, m.body, m.client_msg_id, m.created_at,
  u.id AS sender_id, u.username, u.display_name, u.created_at AS sender_created_at
FROM messages m JOIN users u ON u.id = m.sender_id
WHERE m.sender_id = ? AND m.room_id = ? AND m.client_msg_id = ?;

-- name: ListMessagesAfter :many
SELECT m.id, m.room_id, m.seq, m.body, m.client_msg_id, m.created_at,
  u.id AS sender_id, u.username, u.display_name, u.created_at AS sender_created_at
FROM messages m JOIN users u ON u.id = m.sender_id
WHERE m.room_id = ? AND m.seq > ?
ORDER BY m.seq
LIMIT ?;

-- name: ListMessagesBefore :many
-- Newest first; the caller reverses the page.
SELECT m.id, m.room_id, m.seq, m.body, m.client_msg_id, m.created_at,
  u.id AS sender_id, u.username, u.display_name, u.created_at AS sender_created_at
FROM messages m JOIN users u ON u.id = m.sender_id
WHERE m.room_id = ? AND m.seq < ?
ORDER BY m.seq DESC
LIMIT ?;
