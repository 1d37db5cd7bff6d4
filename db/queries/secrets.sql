-- name: InsertSecretIfMissing :exec
INSERT IGNORE INTO server_secrets (name, secret, created_at) VALUES (?, ?, ?);

-- name: GetSecret :one
SELECT secret FROM server_secrets WHERE name = ?;
