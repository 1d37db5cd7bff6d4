-- name: InsertMessage :execlastid
INSERT INTO messages (room_id, seq, sender_id, body, client_msg_id, created_at)
VALUES (?, ?, ?, ?, ?, ?);

-- name: GetMessageByClientID :one
SELECT sqlc.embed(m), sqlc.embed(u)
FROM messages m JOIN users u ON u.id = m.sender_id
WHERE m.sender_id = ? AND m.room_id = ? AND m.client_msg_id = ?;

-- name: ListMessagesAfter :many
SELECT sqlc.embed(m), sqlc.embed(u)
FROM messages m JOIN users u ON u.id = m.sender_id
WHERE m.room_id = ? AND m.seq > ?
ORDER BY m.seq
LIMIT ?;

-- name: ListMessagesBefore :many
-- Newest first; the caller reverses the page.
SELECT sqlc.embed(m), sqlc.embed(u)
FROM messages m JOIN users u ON u.id = m.sender_id
WHERE m.room_id = ? AND m.seq < ?
ORDER BY m.seq DESC
LIMIT ?;
