CREATE TABLE `backup_profiles` (
	`id` text PRIMARY KEY NOT NULL,
	`model_id` text NOT NULL,
	`category` text NOT NULL,
	`paths` text NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`model_id`) REFERENCES `device_models`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `backup_profiles_model_category_idx` ON `backup_profiles` (`model_id`,`category`);--> statement-breakpoint
CREATE TABLE `blobs` (
	`hash` text PRIMARY KEY NOT NULL,
	`size` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `device_models` (
	`id` text PRIMARY KEY NOT NULL,
	`manufacturer` text NOT NULL,
	`model` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `device_models_man_mod_idx` ON `device_models` (`manufacturer`,`model`);--> statement-breakpoint
CREATE TABLE `local_backups` (
	`id` text PRIMARY KEY NOT NULL,
	`device_id` text NOT NULL,
	`local_id` text NOT NULL,
	`target` text NOT NULL,
	`taken_at` text NOT NULL,
	`categories` text NOT NULL,
	`entries` integer NOT NULL,
	`size` integer NOT NULL,
	`root_hash` text NOT NULL,
	`job_id` text,
	`reported_at` integer NOT NULL,
	`gone_at` integer,
	FOREIGN KEY (`device_id`) REFERENCES `devices`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `local_backups_device_local_idx` ON `local_backups` (`device_id`,`local_id`);--> statement-breakpoint
CREATE TABLE `policies` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`categories` text NOT NULL,
	`interval_minutes` integer NOT NULL,
	`jitter_minutes` integer DEFAULT 0 NOT NULL,
	`wifi_only` integer DEFAULT false NOT NULL,
	`roaming_allowed` integer DEFAULT false NOT NULL,
	`retention` text DEFAULT '{}' NOT NULL,
	`is_default` integer DEFAULT false NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `policies_name_idx` ON `policies` (`name`);--> statement-breakpoint
CREATE TABLE `snapshot_staging` (
	`snapshot_id` text NOT NULL,
	`path` text NOT NULL,
	`category` text NOT NULL,
	`format` text NOT NULL,
	`type` text,
	`size` integer NOT NULL,
	`hash` text,
	FOREIGN KEY (`snapshot_id`) REFERENCES `snapshots`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `snapshot_staging_pk` ON `snapshot_staging` (`snapshot_id`,`path`);--> statement-breakpoint
CREATE TABLE `snapshots` (
	`id` text PRIMARY KEY NOT NULL,
	`device_id` text NOT NULL,
	`job_id` text,
	`trigger` text NOT NULL,
	`status` text DEFAULT 'incomplete' NOT NULL,
	`categories` text NOT NULL,
	`root_hash` text,
	`entries` integer DEFAULT 0 NOT NULL,
	`bytes` integer DEFAULT 0 NOT NULL,
	`new_bytes` integer DEFAULT 0 NOT NULL,
	`legal_hold` integer DEFAULT false NOT NULL,
	`error` text,
	`started_at` integer NOT NULL,
	`completed_at` integer,
	FOREIGN KEY (`device_id`) REFERENCES `devices`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `snapshots_device_idx` ON `snapshots` (`device_id`,`started_at`);--> statement-breakpoint
CREATE INDEX `snapshots_root_idx` ON `snapshots` (`root_hash`);--> statement-breakpoint
ALTER TABLE `devices` ADD `policy_id` text;--> statement-breakpoint
ALTER TABLE `dm_sessions` ADD `ready_at` integer;--> statement-breakpoint
ALTER TABLE `jobs` ADD `progress` text;--> statement-breakpoint
ALTER TABLE `jobs` ADD `depends_on` text;--> statement-breakpoint
ALTER TABLE `jobs` ADD `wake_pending` integer DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX `jobs_wake_idx` ON `jobs` (`wake_pending`);