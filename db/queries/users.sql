-- name: CreateUser :execlastid
INSERT INTO users (username, email, display_name, password_hash, created_at)
VALUES (?, ?, ?, ?, ?);

-- name: GetUser :one
SELECT * FROM users WHERE id = ?;

-- name: GetUserByLogin :one
-- The login is an email or a username; the two never collide because
-- usernames cannot contain '@'.
SELECT * FROM users WHERE username = sqlc.arg(login) OR email = sqlc.arg(login) LIMIT 1;

-- name: GetUserByUsername :one
SELECT * FROM users WHERE username = ?;

-- name: SetPasswordHash :execrows
UPDATE users SET password_hash = ? WHERE id = ?;
