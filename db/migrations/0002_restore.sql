CREATE TABLE `app_packages` (
	`id` text PRIMARY KEY NOT NULL,
	`app_id` text NOT NULL,
	`name` text NOT NULL,
	`version` text NOT NULL,
	`models` text,
	`blob_hash` text NOT NULL,
	`size` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `app_packages_app_version_idx` ON `app_packages` (`app_id`,`version`);--> statement-breakpoint
CREATE TABLE `consents` (
	`id` text PRIMARY KEY NOT NULL,
	`device_id` text NOT NULL,
	`subscriber_id` text,
	`job_id` text,
	`code` text NOT NULL,
	`prompt` text NOT NULL,
	`prompt_version` text NOT NULL,
	`answer` text NOT NULL,
	`network` text,
	`cost` text,
	`at` integer NOT NULL,
	FOREIGN KEY (`device_id`) REFERENCES `devices`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `consents_device_idx` ON `consents` (`device_id`,`at`);--> statement-breakpoint
CREATE INDEX `consents_subscriber_idx` ON `consents` (`subscriber_id`,`at`);--> statement-breakpoint
CREATE TABLE `device_links` (
	`id` text PRIMARY KEY NOT NULL,
	`from_device_id` text NOT NULL,
	`to_device_id` text NOT NULL,
	`reason` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`from_device_id`) REFERENCES `devices`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`to_device_id`) REFERENCES `devices`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `device_links_pair_idx` ON `device_links` (`from_device_id`,`to_device_id`);--> statement-breakpoint
CREATE TABLE `dm_session_values` (
	`session_row_id` text NOT NULL,
	`hash` text NOT NULL,
	`data` text NOT NULL,
	FOREIGN KEY (`session_row_id`) REFERENCES `dm_sessions`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `dm_session_values_pk` ON `dm_session_values` (`session_row_id`,`hash`);--> statement-breakpoint
CREATE TABLE `firmware_packages` (
	`id` text PRIMARY KEY NOT NULL,
	`manufacturer` text NOT NULL,
	`model` text NOT NULL,
	`version` text NOT NULL,
	`name` text,
	`blob_hash` text NOT NULL,
	`size` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `firmware_packages_model_version_idx` ON `firmware_packages` (`manufacturer`,`model`,`version`);--> statement-breakpoint
CREATE TABLE `restore_items` (
	`id` text PRIMARY KEY NOT NULL,
	`job_id` text NOT NULL,
	`seq` integer NOT NULL,
	`kind` text NOT NULL,
	`path` text NOT NULL,
	`op` text NOT NULL,
	`status` text DEFAULT 'pending' NOT NULL,
	`code` integer,
	`detail` text,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`job_id`) REFERENCES `jobs`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `restore_items_job_seq_idx` ON `restore_items` (`job_id`,`seq`);--> statement-breakpoint
CREATE INDEX `restore_items_job_status_idx` ON `restore_items` (`job_id`,`status`);--> statement-breakpoint
CREATE TABLE `restore_plans` (
	`id` text PRIMARY KEY NOT NULL,
	`snapshot_id` text NOT NULL,
	`source_device_id` text NOT NULL,
	`target_device_id` text NOT NULL,
	`plan` text NOT NULL,
	`plan_hash` text NOT NULL,
	`created_by` text NOT NULL,
	`job_id` text,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`snapshot_id`) REFERENCES `snapshots`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`source_device_id`) REFERENCES `devices`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`target_device_id`) REFERENCES `devices`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `restore_plans_target_idx` ON `restore_plans` (`target_device_id`);