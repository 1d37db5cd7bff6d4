-- name: ListRoomsFor :many
-- The rooms as the user sees them: with only_room 0, every public room and
-- every private room the user is in; otherwise that one room whatever its
-- visibility (the caller decides what a non-member may see). role is 0 for
-- a non-member. A member's counts come from the numbers kept beside the
-- watermark and one key lookup, the member's last message, which says how
-- many they sent (see 00003_read_counts.sql).
SELECT r.id, r.name, r.topic, r.visibility, r.last_seq, r.created_at,
  r.member_count,
  CAST(COALESCE(mine.role, 0) AS SIGNED) AS role,
  CAST(COALESCE(mine.read_seq, 0) AS SIGNED) AS read_seq,
  CAST(COALESCE(mine.muted, FALSE) AS SIGNED) AS muted,
  CAST(COALESCE(r.last_seq - mine.read_seq
    - (r.change_count - mine.read_changes)
    - (COALESCE((SELECT o.sender_no FROM messages o WHERE o.room_id = r.id AND o.sender_id = mine.user_id
        ORDER BY o.seq DESC LIMIT 1), 0) - mine.read_own)
    - mine.unread_deleted, 0) AS SIGNED) AS unread_count,
  CAST(COALESCE(mine.unread_mentions, 0) AS SIGNED) AS mention_count
FROM rooms r
LEFT JOIN memberships mine ON mine.room_id = r.id AND mine.user_id = sqlc.arg(user_id)
WHERE (sqlc.arg(only_room) = 0 AND (r.visibility = 1 OR mine.user_id IS NOT NULL))
  OR r.id = sqlc.arg(only_room)
ORDER BY r.id;

-- name: GetReadState :one
-- A member's watermark with what MarkRead needs beside it. A plain read: it
-- takes no lock on the room row, which every send to the room holds.
SELECT m.read_seq, r.last_seq, u.share_read_receipts
FROM memberships m
JOIN rooms r ON r.id = m.room_id
JOIN users u ON u.id = m.user_id
WHERE m.room_id = ? AND m.user_id = ?;

-- name: LockReadSeq :one
-- Taken before counting what a move passes over: a delete or mention that
-- changes the member's counts waits for the move, or the move for it.
-- Every write of the counts goes by the primary key (FORCE INDEX), as the
-- deletes and mentions that change many members' counts do, so that no two
-- take the same locks in different orders.
SELECT read_seq FROM memberships FORCE INDEX (PRIMARY) WHERE room_id = ? AND user_id = ? FOR UPDATE;

-- name: ShareRoomLog :one
-- A move back waits for the room's writers and holds them off: one that
-- left this member's counts alone, the member being past its message,
-- must be seen by the count of what the move goes back over.
SELECT last_seq FROM rooms WHERE id = ? LOCK IN SHARE MODE;

-- name: CountReadSpan :one
-- What lies in the log entries (after, up_to] for the member: changes, their
-- own messages, others' deleted messages, others' live messages mentioning them
-- or @room (a deleted message's mentions are deleted with it).
SELECT
  (SELECT COUNT(*) FROM timeline_changes t
    WHERE t.room_id = sqlc.arg(room_id) AND t.seq > sqlc.arg(after) AND t.seq <= sqlc.arg(up_to)) AS changes,
  (SELECT COUNT(*) FROM messages o
    WHERE o.room_id = sqlc.arg(room_id) AND o.sender_id = sqlc.arg(user_id)
      AND o.seq > sqlc.arg(after) AND o.seq <= sqlc.arg(up_to)) AS own,
  (SELECT COUNT(*) FROM timeline_changes d
    JOIN messages m ON m.room_id = d.room_id AND m.seq = d.message_seq
    WHERE d.room_id = sqlc.arg(room_id) AND d.kind = sqlc.arg(deleted_kind)
      AND d.message_seq > sqlc.arg(after) AND d.message_seq <= sqlc.arg(up_to)
      AND m.sender_id <> sqlc.arg(user_id)) AS deleted,
  (SELECT COUNT(DISTINCT n.seq) FROM mentions n
    WHERE n.room_id = sqlc.arg(room_id) AND n.user_id IN (sqlc.arg(user_id), 0) AND n.sender_id <> sqlc.arg(user_id)
      AND n.seq > sqlc.arg(after) AND n.seq <= sqlc.arg(up_to)) AS mentions;

-- name: SetReadSeq :execrows
-- Moves the watermark with the counts of what it passed over (negative
-- when it goes back).
UPDATE memberships FORCE INDEX (PRIMARY) SET
  read_changes = read_changes + sqlc.arg(changes),
  read_own = read_own + sqlc.arg(own),
  unread_deleted = unread_deleted - sqlc.arg(deleted),
  unread_mentions = unread_mentions - sqlc.arg(mentions),
  read_seq = sqlc.arg(read_seq)
WHERE room_id = sqlc.arg(room_id) AND user_id = sqlc.arg(user_id);

-- name: SetMuted :execrows
UPDATE memberships SET muted = ? WHERE room_id = ? AND user_id = ?;

-- name: ListReceipts :many
-- How far each member who shares receipts has read, of those who read any.
SELECT m.user_id, m.read_seq
FROM memberships m
JOIN users u ON u.id = m.user_id
WHERE m.room_id = ? AND m.read_seq > 0 AND u.share_read_receipts
ORDER BY m.user_id;

-- name: SetShareReadReceipts :execrows
UPDATE users SET share_read_receipts = ? WHERE id = ?;
