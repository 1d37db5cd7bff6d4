-- name: GetRelation :one
-- How one user stands to another, in one statement of key lookups.
SELECT
  EXISTS(SELECT 1 FROM blocks b WHERE b.blocker_id = sqlc.arg(from_id) AND b.blocked_id = sqlc.arg(to_id)) AS blocks,
  EXISTS(SELECT 1 FROM blocks b WHERE b.blocker_id = sqlc.arg(to_id) AND b.blocked_id = sqlc.arg(from_id)) AS blocked_by,
  EXISTS(SELECT 1 FROM friendships f WHERE f.user_id = sqlc.arg(from_id) AND f.friend_id = sqlc.arg(to_id)) AS friends,
  u.dm_policy
FROM users u WHERE u.id = sqlc.arg(to_id);
