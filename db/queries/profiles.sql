-- name: SearchUsers :many
-- Users whose username or display name starts with the prefix (LIKE
-- under the table's case-insensitive collation, '!' escaping), the viewer
-- and those who blocked the viewer left out. Each branch is one range of
-- its key (users_username, users_display_name) read to the limit; the
-- union is ordered by username. No email: a search never returns one.
SELECT id, username, display_name, status_text, created_at FROM (
  (SELECT u.id, u.username, u.display_name, u.status_text, u.created_at
   FROM users u
   WHERE u.username LIKE sqlc.arg(prefix) ESCAPE '!' AND u.id <> sqlc.arg(viewer)
     AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.blocker_id = u.id AND b.blocked_id = sqlc.arg(viewer))
   ORDER BY u.username LIMIT ?)
  UNION
  (SELECT u.id, u.username, u.display_name, u.status_text, u.created_at
   FROM users u
   WHERE u.display_name LIKE sqlc.arg(prefix) ESCAPE '!' AND u.id <> sqlc.arg(viewer)
     AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.blocker_id = u.id AND b.blocked_id = sqlc.arg(viewer))
   ORDER BY u.display_name LIMIT ?)
) found
ORDER BY username
LIMIT ?;

-- name: SetProfile :execrows
UPDATE users SET display_name = ?, status_text = ? WHERE id = ?;
