CREATE TABLE `ds_accounts` (
	`id` text PRIMARY KEY NOT NULL,
	`device_id` text NOT NULL,
	`username` text NOT NULL,
	`derived` text NOT NULL,
	`auth` text DEFAULT 'basic' NOT NULL,
	`nonce` text DEFAULT '' NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`device_id`) REFERENCES `devices`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `ds_accounts_username_idx` ON `ds_accounts` (`username`);--> statement-breakpoint
CREATE INDEX `ds_accounts_device_idx` ON `ds_accounts` (`device_id`);--> statement-breakpoint
CREATE TABLE `ds_items` (
	`id` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`store` text NOT NULL,
	`luid` text,
	`content_type` text NOT NULL,
	`hash` text NOT NULL,
	`size` integer NOT NULL,
	`summary` text DEFAULT '' NOT NULL,
	`uid` text,
	`pending` text,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `ds_accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `ds_items_account_store_idx` ON `ds_items` (`account_id`,`store`);--> statement-breakpoint
CREATE UNIQUE INDEX `ds_items_luid_idx` ON `ds_items` (`account_id`,`store`,`luid`);--> statement-breakpoint
CREATE TABLE `ds_sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`source` text NOT NULL,
	`session_id` text NOT NULL,
	`account_id` text,
	`status` text DEFAULT 'active' NOT NULL,
	`state` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `ds_sessions_lookup_idx` ON `ds_sessions` (`source`,`session_id`,`status`);--> statement-breakpoint
CREATE TABLE `ds_snapshots` (
	`id` text PRIMARY KEY NOT NULL,
	`device_id` text NOT NULL,
	`account_id` text NOT NULL,
	`job_id` text,
	`sync_type` text NOT NULL,
	`root_hash` text NOT NULL,
	`contacts` integer NOT NULL,
	`events` integer NOT NULL,
	`bytes` integer NOT NULL,
	`new_bytes` integer NOT NULL,
	`changes` text DEFAULT '{}' NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`device_id`) REFERENCES `devices`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `ds_snapshots_device_idx` ON `ds_snapshots` (`device_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `ds_stores` (
	`account_id` text NOT NULL,
	`store` text NOT NULL,
	`client_anchor` text,
	`server_anchor` text,
	`client_uri` text,
	`synced_at` integer,
	`last_sync_type` text,
	PRIMARY KEY(`account_id`, `store`),
	FOREIGN KEY (`account_id`) REFERENCES `ds_accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
