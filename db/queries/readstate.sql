-- name: ListRoomsFor :many
-- The rooms as the user sees them: with only_room 0, every public room and
-- every private room the user is in; otherwise that one room whatever its
-- visibility (the caller decides what a non-member may see). role is 0 for
-- a non-member. The unread counts come from CountUnread.
SELECT r.id, r.name, r.topic, r.visibility, r.last_seq, r.created_at,
  (SELECT COUNT(*) FROM memberships m WHERE m.room_id = r.id) AS member_count,
  CAST(COALESCE(mine.role, 0) AS SIGNED) AS role,
  CAST(COALESCE(mine.read_seq, 0) AS SIGNED) AS read_seq,
  CAST(COALESCE(mine.muted, FALSE) AS SIGNED) AS muted
FROM rooms r
LEFT JOIN memberships mine ON mine.room_id = r.id AND mine.user_id = sqlc.arg(user_id)
WHERE (sqlc.arg(only_room) = 0 AND (r.visibility = 1 OR mine.user_id IS NOT NULL))
  OR r.id = sqlc.arg(only_room)
ORDER BY r.id;

-- name: CountUnread :many
-- A member's unread and mention counts in the rooms, with the last_seq and
-- read_seq they are counted at: one statement reads one snapshot, so the
-- figures agree whatever commits meanwhile. The unread count needs no scan
-- of the messages (see db/migrations/00002_timeline.sql): the entries after
-- read_seq, less the changes among them (change_count less the change_no of
-- the last change at or before read_seq), less the deleted messages after
-- read_seq, less the user's own live ones. The mentions are those of the
-- user, and those of @room in messages that do not also name the user: each
-- an equality on the key (room_id, user_id, seq), where an IN would read
-- every mention of the room. Mentions of deleted messages are deleted with
-- them.
SELECT r.id, r.last_seq, mine.read_seq,
  CAST(
    (r.last_seq - mine.read_seq)
    - (r.change_count - COALESCE((SELECT c.change_no FROM timeline_changes c
        WHERE c.room_id = r.id AND c.seq <= mine.read_seq ORDER BY c.seq DESC LIMIT 1), 0))
    - (SELECT COUNT(*) FROM timeline_changes d
        WHERE d.room_id = r.id AND d.kind = sqlc.arg(deleted_kind) AND d.message_seq > mine.read_seq)
    - (SELECT COUNT(*) FROM messages o
        WHERE o.room_id = r.id AND o.sender_id = mine.user_id AND o.deleted = FALSE AND o.seq > mine.read_seq)
  AS SIGNED) AS unread_count,
  CAST(
    (SELECT COUNT(*) FROM mentions n
      WHERE n.room_id = r.id AND n.user_id = mine.user_id AND n.seq > mine.read_seq AND n.sender_id <> mine.user_id)
    + (SELECT COUNT(*) FROM mentions n
      WHERE n.room_id = r.id AND n.user_id = 0 AND n.seq > mine.read_seq AND n.sender_id <> mine.user_id
        AND NOT EXISTS (SELECT 1 FROM mentions x WHERE x.room_id = n.room_id AND x.user_id = mine.user_id AND x.seq = n.seq))
  AS SIGNED) AS mention_count
FROM rooms r
JOIN memberships mine ON mine.room_id = r.id AND mine.user_id = sqlc.arg(user_id)
WHERE r.id IN (sqlc.slice(room_ids));

-- name: GetReadState :one
-- A member's watermark with what MarkRead needs beside it. A plain read: it
-- takes no lock on the room row, which every send to the room holds.
SELECT m.read_seq, r.last_seq, u.share_read_receipts
FROM memberships m
JOIN rooms r ON r.id = m.room_id
JOIN users u ON u.id = m.user_id
WHERE m.room_id = ? AND m.user_id = ?;

-- name: AdvanceReadSeq :execrows
-- Moves the watermark forward only: a concurrent call that went further
-- already wins.
UPDATE memberships SET read_seq = sqlc.arg(read_seq)
WHERE room_id = sqlc.arg(room_id) AND user_id = sqlc.arg(user_id) AND read_seq < sqlc.arg(read_seq);

-- name: SetReadSeq :execrows
UPDATE memberships SET read_seq = ? WHERE room_id = ? AND user_id = ?;

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
