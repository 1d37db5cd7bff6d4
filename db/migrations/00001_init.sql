-- +goose Up
CREATE TABLE users (
  id            BIGINT       NOT NULL AUTO_INCREMENT,
  -- The collation is case-insensitive, so the unique keys ignore case.
  username      VARCHAR(32)  NOT NULL,
  email         VARCHAR(254) NOT NULL,
  display_name  VARCHAR(64)  NOT NULL,
  password_hash VARCHAR(255) NOT NULL,
  created_at    DATETIME(6)  NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY users_username (username),
  UNIQUE KEY users_email (email)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE rooms (
  id          BIGINT        NOT NULL AUTO_INCREMENT,
  name        VARCHAR(64)   NOT NULL,
  -- Set only for public rooms, so public names are unique while private
  -- names reveal nothing about each other.
  public_name VARCHAR(64)   NULL,
  topic       VARCHAR(1024) NOT NULL DEFAULT '',
  visibility  TINYINT       NOT NULL,
  owner_id    BIGINT        NULL,
  -- The seq of the newest message; bumped under the row lock in the
  -- transaction that stores the message, which keeps seq gapless.
  last_seq    BIGINT        NOT NULL DEFAULT 0,
  created_at  DATETIME(6)   NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY rooms_public_name (public_name),
  CONSTRAINT rooms_owner FOREIGN KEY (owner_id) REFERENCES users (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE memberships (
  room_id   BIGINT      NOT NULL,
  user_id   BIGINT      NOT NULL,
  role      TINYINT     NOT NULL,
  joined_at DATETIME(6) NOT NULL,
  PRIMARY KEY (room_id, user_id),
  KEY memberships_user (user_id),
  CONSTRAINT memberships_room FOREIGN KEY (room_id) REFERENCES rooms (id) ON DELETE CASCADE,
  CONSTRAINT memberships_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE messages (
  id            BIGINT      NOT NULL AUTO_INCREMENT,
  room_id       BIGINT      NOT NULL,
  seq           BIGINT      NOT NULL,
  sender_id     BIGINT      NOT NULL,
  body          TEXT        NOT NULL,
  client_msg_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  created_at    DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY messages_room_seq (room_id, seq),
  -- Makes sending idempotent: one row per sender, room and client id.
  UNIQUE KEY messages_client_id (sender_id, room_id, client_msg_id),
  CONSTRAINT messages_room FOREIGN KEY (room_id) REFERENCES rooms (id) ON DELETE CASCADE,
  CONSTRAINT messages_sender FOREIGN KEY (sender_id) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Keys the server generates for itself, such as the JWT signing key, so
-- every process shares them without hand configuration.
CREATE TABLE server_secrets (
  name       VARCHAR(64)    NOT NULL,
  secret     VARBINARY(255) NOT NULL,
  created_at DATETIME(6)    NOT NULL,
  PRIMARY KEY (name)
) ENGINE=InnoDB;

INSERT INTO rooms (name, public_name, topic, visibility, created_at) VALUES
  ('general', 'general', 'Everyone, everything', 1, UTC_TIMESTAMP(6)),
  ('random', 'random', 'Off-topic and fun', 1, UTC_TIMESTAMP(6)),
  ('tech', 'tech', 'Code, tools and infrastructure', 1, UTC_TIMESTAMP(6));

-- +goose Down
DROP TABLE server_secrets;
DROP TABLE messages;
DROP TABLE memberships;
DROP TABLE rooms;
DROP TABLE users;
