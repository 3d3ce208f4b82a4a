CREATE TABLE `api_tokens` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`token_hash` text NOT NULL,
	`role` text NOT NULL,
	`created_at` integer NOT NULL,
	`last_used_at` integer,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_tokens_hash_idx` ON `api_tokens` (`token_hash`);--> statement-breakpoint
CREATE TABLE `audit_events` (
	`id` text PRIMARY KEY NOT NULL,
	`at` integer NOT NULL,
	`actor` text NOT NULL,
	`action` text NOT NULL,
	`device_id` text,
	`details` text
);
--> statement-breakpoint
CREATE INDEX `audit_at_idx` ON `audit_events` (`at`);--> statement-breakpoint
CREATE INDEX `audit_device_idx` ON `audit_events` (`device_id`);--> statement-breakpoint
CREATE TABLE `devices` (
	`id` text PRIMARY KEY NOT NULL,
	`dev_id` text NOT NULL,
	`manufacturer` text,
	`model` text,
	`firmware` text,
	`subscriber_id` text,
	`server_id` text NOT NULL,
	`client_auth` text NOT NULL,
	`client_user` text NOT NULL,
	`client_derived` text NOT NULL,
	`client_password` text,
	`server_auth` text NOT NULL,
	`server_derived` text NOT NULL,
	`server_password` text,
	`client_nonce` text DEFAULT '' NOT NULL,
	`server_nonce` text DEFAULT '' NOT NULL,
	`push_address` text,
	`encoding` text,
	`last_seen_at` integer,
	`network_state` text,
	`device_info` text,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`subscriber_id`) REFERENCES `subscribers`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE UNIQUE INDEX `devices_dev_id_idx` ON `devices` (`dev_id`);--> statement-breakpoint
CREATE INDEX `devices_subscriber_idx` ON `devices` (`subscriber_id`);--> statement-breakpoint
CREATE TABLE `dm_sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`device_id` text NOT NULL,
	`session_id` text NOT NULL,
	`status` text DEFAULT 'active' NOT NULL,
	`state` text NOT NULL,
	`messages` integer DEFAULT 0 NOT NULL,
	`bytes_in` integer DEFAULT 0 NOT NULL,
	`bytes_out` integer DEFAULT 0 NOT NULL,
	`error` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`device_id`) REFERENCES `devices`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `dm_sessions_device_idx` ON `dm_sessions` (`device_id`,`session_id`);--> statement-breakpoint
CREATE INDEX `dm_sessions_status_idx` ON `dm_sessions` (`status`,`updated_at`);--> statement-breakpoint
CREATE TABLE `jobs` (
	`id` text PRIMARY KEY NOT NULL,
	`device_id` text NOT NULL,
	`kind` text NOT NULL,
	`status` text DEFAULT 'queued' NOT NULL,
	`payload` text DEFAULT '{}' NOT NULL,
	`result` text,
	`error` text,
	`session_ref` text,
	`attempts` integer DEFAULT 0 NOT NULL,
	`not_before` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`device_id`) REFERENCES `devices`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `jobs_device_status_idx` ON `jobs` (`device_id`,`status`);--> statement-breakpoint
CREATE INDEX `jobs_status_idx` ON `jobs` (`status`,`not_before`);--> statement-breakpoint
CREATE TABLE `msisdns` (
	`msisdn` text PRIMARY KEY NOT NULL,
	`subscriber_id` text NOT NULL,
	FOREIGN KEY (`subscriber_id`) REFERENCES `subscribers`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `msisdns_subscriber_idx` ON `msisdns` (`subscriber_id`);--> statement-breakpoint
CREATE TABLE `subscribers` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`email` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `subscribers_name_idx` ON `subscribers` (`name`);--> statement-breakpoint
CREATE INDEX `subscribers_email_idx` ON `subscribers` (`email`);