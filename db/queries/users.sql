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

-- name: UserExists :one
SELECT
  EXISTS(SELECT 1 FROM users u1 WHERE u1.username = sqlc.arg(username)) AS username_taken,
  EXISTS(SELECT 1 FROM users u2 WHERE u2.email = sqlc.arg(email)) AS email_taken;
