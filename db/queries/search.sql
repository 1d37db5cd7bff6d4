-- name: DeleteTerms :exec
-- Takes a message out of the search index.
DELETE FROM message_terms WHERE room_id = ? AND seq = ?;

-- name: LockSearchBacklog :one
-- One process at a time works through the backlog.
SELECT below FROM search_backlog WHERE id = 1 FOR UPDATE;

-- name: ListBacklog :many
-- The newest not yet indexed messages below the mark, locked against an
-- edit or delete until their terms are in. A message with terms was
-- edited since the index existed and is current already.
SELECT m.id, m.room_id, m.seq, m.sender_id, m.created_at, m.body FROM messages m
WHERE m.id < ? AND NOT m.deleted
  AND NOT EXISTS (SELECT 1 FROM message_terms t WHERE t.room_id = m.room_id AND t.seq = m.seq)
ORDER BY m.id DESC
LIMIT ?
FOR UPDATE;

-- name: SetSearchBacklog :exec
UPDATE search_backlog SET below = ? WHERE id = 1;
