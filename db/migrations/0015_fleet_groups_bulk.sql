CREATE TABLE `bulk_operations` (
	`id` text PRIMARY KEY NOT NULL,
	`action` text NOT NULL,
	`request` text NOT NULL,
	`actor` text NOT NULL,
	`status` text DEFAULT 'queued' NOT NULL,
	`total` integer DEFAULT 0 NOT NULL,
	`done` integer DEFAULT 0 NOT NULL,
	`skipped` integer DEFAULT 0 NOT NULL,
	`cursor` text,
	`error` text,
	`created_at` integer NOT NULL,
	`updated_at` integer,
	`finished_at` integer
);
--> statement-breakpoint
CREATE INDEX `bulk_operations_created_idx` ON `bulk_operations` (`created_at`);--> statement-breakpoint
CREATE TABLE `device_group_members` (
	`group_id` text NOT NULL,
	`device_id` text NOT NULL,
	PRIMARY KEY(`group_id`, `device_id`),
	FOREIGN KEY (`group_id`) REFERENCES `device_groups`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`device_id`) REFERENCES `devices`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `device_group_members_device_idx` ON `device_group_members` (`device_id`);--> statement-breakpoint
CREATE TABLE `device_groups` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`kind` text NOT NULL,
	`rule` text,
	`priority` integer DEFAULT 100 NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `device_groups_name_idx` ON `device_groups` (`name`);--> statement-breakpoint
CREATE TABLE `saved_views` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`name` text NOT NULL,
	`query` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `saved_views_user_name_idx` ON `saved_views` (`user_id`,`name`);--> statement-breakpoint
CREATE TABLE `settings` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL,
	`updated_by` text,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `wake_minutes` (
	`minute` integer PRIMARY KEY NOT NULL,
	`sent` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
ALTER TABLE `devices` ADD `last_good_backup_at` integer;--> statement-breakpoint
ALTER TABLE `devices` ADD `firmware_key` text;--> statement-breakpoint
CREATE INDEX `devices_model_idx` ON `devices` (`manufacturer`,`model`,`id`);--> statement-breakpoint
CREATE INDEX `devices_firmware_key_idx` ON `devices` (`firmware_key`,`id`);--> statement-breakpoint
CREATE INDEX `devices_last_good_backup_idx` ON `devices` (`last_good_backup_at`,`id`);--> statement-breakpoint
CREATE INDEX `devices_last_seen_idx` ON `devices` (`last_seen_at`,`id`);--> statement-breakpoint
CREATE INDEX `devices_policy_idx` ON `devices` (`policy_id`);--> statement-breakpoint
ALTER TABLE `jobs` ADD `bulk_id` text;--> statement-breakpoint
CREATE INDEX `jobs_bulk_idx` ON `jobs` (`bulk_id`,`status`);--> statement-breakpoint
ALTER TABLE `policies` ADD `safety_backup_before_updates` integer DEFAULT true NOT NULL;--> statement-breakpoint
UPDATE `devices` SET `last_good_backup_at` = (SELECT max(`s`.`completed_at`) FROM `snapshots` `s` WHERE `s`.`device_id` = `devices`.`id` AND `s`.`status` = 'complete');--> statement-breakpoint
INSERT INTO `device_groups` (`id`, `name`, `kind`, `rule`, `priority`, `created_at`) SELECT lower(hex(randomblob(16))), `group_name`, 'static', NULL, 100, CAST(strftime('%s','now') AS INTEGER) * 1000 FROM `devices` WHERE `group_name` IS NOT NULL GROUP BY `group_name`;--> statement-breakpoint
INSERT INTO `device_group_members` (`group_id`, `device_id`) SELECT `g`.`id`, `d`.`id` FROM `devices` `d` JOIN `device_groups` `g` ON `g`.`name` = `d`.`group_name`;
