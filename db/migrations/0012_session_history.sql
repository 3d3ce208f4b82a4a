CREATE TABLE `device_attempts` (
	`id` text PRIMARY KEY NOT NULL,
	`device_id` text NOT NULL,
	`channel` text NOT NULL,
	`reason` text NOT NULL,
	`count` integer DEFAULT 1 NOT NULL,
	`first_at` integer NOT NULL,
	`last_at` integer NOT NULL,
	FOREIGN KEY (`device_id`) REFERENCES `devices`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `device_attempts_device_idx` ON `device_attempts` (`device_id`,`last_at`);--> statement-breakpoint
CREATE TABLE `firmware_runs` (
	`id` text PRIMARY KEY NOT NULL,
	`device_id` text NOT NULL,
	`firmware` text NOT NULL,
	`first_seen_at` integer NOT NULL,
	`last_seen_at` integer NOT NULL,
	FOREIGN KEY (`device_id`) REFERENCES `devices`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `firmware_runs_device_idx` ON `firmware_runs` (`device_id`,`last_seen_at`);--> statement-breakpoint
CREATE INDEX `firmware_runs_firmware_idx` ON `firmware_runs` (`firmware`,`first_seen_at`);--> statement-breakpoint
ALTER TABLE `dm_sessions` ADD `initiator` text;--> statement-breakpoint
ALTER TABLE `dm_sessions` ADD `end_reason` text;