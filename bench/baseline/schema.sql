-- Schema of the baseline server: the service's migrations (src/database/migrations) as
-- MariaDB reports them (SHOW CREATE TABLE after `npm run migration:run`), minus the
-- `migrations` table. Same tables, columns and indexes, so seeded rows fit both servers.

CREATE TABLE IF NOT EXISTS `users` (
  `id` varchar(36) NOT NULL,
  `username` varchar(32) NOT NULL,
  `username_key` varchar(64) NOT NULL,
  `email` varchar(254) NOT NULL,
  `phone` varchar(16) DEFAULT NULL,
  `avatar` varchar(1024) DEFAULT NULL,
  `password_hash` varchar(60) NOT NULL,
  `token_version` int(11) NOT NULL DEFAULT 0,
  `last_seen_at` datetime(3) DEFAULT NULL,
  `created_at` datetime(3) NOT NULL,
  `updated_at` datetime(3) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `UQ_users_username_key` (`username_key`),
  UNIQUE KEY `UQ_users_email` (`email`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `revoked_tokens` (
  `jti` varchar(36) NOT NULL,
  `user_id` varchar(36) NOT NULL,
  `expires_at` datetime(3) NOT NULL,
  PRIMARY KEY (`jti`),
  KEY `IDX_revoked_tokens_expires_at` (`expires_at`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `groups` (
  `id` varchar(36) NOT NULL,
  `name` varchar(64) NOT NULL,
  `description` varchar(500) NOT NULL,
  `avatar` varchar(1024) DEFAULT NULL,
  `creator_id` varchar(36) NOT NULL,
  `created_at` datetime(3) NOT NULL,
  `updated_at` datetime(3) NOT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `group_members` (
  `group_id` varchar(36) NOT NULL,
  `user_id` varchar(36) NOT NULL,
  `role` varchar(8) NOT NULL,
  `joined_at` datetime(3) NOT NULL,
  PRIMARY KEY (`group_id`,`user_id`),
  KEY `IDX_group_members_user` (`user_id`),
  KEY `IDX_group_members_group_joined` (`group_id`,`joined_at`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `messages` (
  `id` varchar(36) NOT NULL,
  `conversation_key` varchar(80) NOT NULL,
  `type` varchar(8) NOT NULL,
  `content` text NOT NULL,
  `sender_id` varchar(36) NOT NULL,
  `receiver_id` varchar(36) DEFAULT NULL,
  `group_id` varchar(36) DEFAULT NULL,
  `client_msg_id` varchar(64) DEFAULT NULL,
  `created_at` datetime(3) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `UQ_messages_sender_client` (`sender_id`,`client_msg_id`),
  KEY `IDX_messages_conversation` (`conversation_key`,`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `conversations` (
  `conversation_key` varchar(80) NOT NULL,
  `type` varchar(8) NOT NULL,
  `group_id` varchar(36) DEFAULT NULL,
  `user_a` varchar(36) DEFAULT NULL,
  `user_b` varchar(36) DEFAULT NULL,
  `last_message_id` varchar(36) NOT NULL,
  `message_count` int(11) NOT NULL DEFAULT 0,
  `updated_at` datetime(3) NOT NULL,
  `active_second` int(10) unsigned NOT NULL DEFAULT 0,
  PRIMARY KEY (`conversation_key`),
  KEY `IDX_conversations_group` (`group_id`),
  KEY `IDX_conversations_user_a_active` (`user_a`,`active_second`,`conversation_key`),
  KEY `IDX_conversations_user_b_active` (`user_b`,`active_second`,`conversation_key`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `read_marks` (
  `conversation_key` varchar(80) NOT NULL,
  `user_id` varchar(36) NOT NULL,
  `message_id` varchar(36) NOT NULL,
  `read_at` datetime(3) NOT NULL,
  PRIMARY KEY (`conversation_key`,`user_id`),
  KEY `IDX_read_marks_conversation_message` (`conversation_key`,`message_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
