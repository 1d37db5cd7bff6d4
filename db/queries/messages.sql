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

-- name: ListMessagesBetween :many
-- The messages created in the log entries (after, up_to].
SELECT sqlc.embed(m), sqlc.embed(u)
FROM messages m JOIN users u ON u.id = m.sender_id
WHERE m.room_id = sqlc.arg(room_id) AND m.seq > sqlc.arg(after) AND m.seq <= sqlc.arg(up_to)
ORDER BY m.seq;

-- name: ListMessagesAt :many
-- The messages of these seqs in these rooms: for several rooms (a page of
-- search hits) a superset of the pairs asked for, which the store drops,
-- in one statement of key lookups instead of one a room.
SELECT sqlc.embed(m), sqlc.embed(u)
FROM messages m JOIN users u ON u.id = m.sender_id
WHERE m.room_id IN (sqlc.slice(room_ids)) AND m.seq IN (sqlc.slice(seqs));

-- name: ListReplied :many
-- What replies show of the messages they answer; rooms and seqs as in
-- ListMessagesAt.
SELECT m.room_id, m.seq, m.deleted, LEFT(m.body, 200) AS excerpt, sqlc.embed(u)
FROM messages m JOIN users u ON u.id = m.sender_id
WHERE m.room_id IN (sqlc.slice(room_ids)) AND m.seq IN (sqlc.slice(seqs));

-- name: ListMentions :many
SELECT room_id, seq, user_id FROM mentions
WHERE room_id IN (sqlc.slice(room_ids)) AND seq IN (sqlc.slice(seqs))
ORDER BY room_id, seq, position;

-- name: ListReactions :many
-- One row per message and emoji, in the order each emoji was first used.
SELECT room_id, message_seq, emoji, COUNT(*) AS n, CAST(MAX(user_id = sqlc.arg(viewer)) AS SIGNED) AS me
FROM reactions
WHERE room_id IN (sqlc.slice(room_ids)) AND message_seq IN (sqlc.slice(seqs))
GROUP BY room_id, message_seq, emoji
ORDER BY room_id, message_seq, MIN(seq);

-- name: ListChanges :many
SELECT * FROM timeline_changes
WHERE room_id = sqlc.arg(room_id) AND seq > sqlc.arg(after) AND seq <= sqlc.arg(up_to)
ORDER BY seq;

-- name: GetMessage :one
SELECT sqlc.embed(m), sqlc.embed(u)
FROM messages m JOIN users u ON u.id = m.sender_id
WHERE m.room_id = ? AND m.seq = ?;

-- name: LockMessage :one
SELECT sqlc.embed(m), sqlc.embed(u)
FROM messages m JOIN users u ON u.id = m.sender_id
WHERE m.room_id = ? AND m.seq = ?
FOR UPDATE;

-- name: LockRoomLog :one
-- The room row's lock orders every writer of the room's log (the group
-- commit of messages takes it too), which keeps the log gapless.
SELECT last_seq, change_count FROM rooms WHERE id = ? FOR UPDATE;

-- name: AdvanceRoomLog :exec
UPDATE rooms SET last_seq = ?, change_count = ? WHERE id = ?;

-- name: InsertChange :exec
INSERT INTO timeline_changes (room_id, seq, change_no, kind, message_seq, user_id, emoji, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?);

-- name: InsertEdit :exec
INSERT INTO message_edits (room_id, message_seq, edit_seq, body, replaced_at) VALUES (?, ?, ?, ?, ?);

-- name: SetMessageBody :exec
UPDATE messages SET body = ?, edited_at = ? WHERE room_id = ? AND seq = ?;

-- name: ListEdits :many
SELECT body, replaced_at FROM message_edits
WHERE room_id = ? AND message_seq = ?
ORDER BY edit_seq;

-- name: TombstoneMessage :exec
-- A tombstone keeps the row (its seq is a log entry) and nothing said.
UPDATE messages SET body = '', edited_at = NULL, deleted = TRUE WHERE room_id = ? AND seq = ?;

-- name: DeleteEdits :exec
DELETE FROM message_edits WHERE room_id = ? AND message_seq = ?;

-- name: DeleteReactions :exec
DELETE FROM reactions WHERE room_id = ? AND message_seq = ?;

-- name: DeleteMentions :exec
DELETE FROM mentions WHERE room_id = ? AND seq = ?;

-- name: InsertReaction :execrows
INSERT IGNORE INTO reactions (room_id, message_seq, emoji, user_id, seq) VALUES (?, ?, ?, ?, ?);

-- name: DeleteReaction :execrows
DELETE FROM reactions WHERE room_id = ? AND message_seq = ? AND emoji = ? AND user_id = ?;

-- name: ReactionEmoji :many
SELECT DISTINCT emoji FROM reactions WHERE room_id = ? AND message_seq = ?;

-- name: ListMemberIDs :many
SELECT u.id, u.username
FROM memberships m JOIN users u ON u.id = m.user_id
WHERE m.room_id = sqlc.arg(room_id) AND u.username IN (sqlc.slice(usernames));
