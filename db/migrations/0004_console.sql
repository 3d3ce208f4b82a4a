CREATE TABLE `policy_assignments` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`key` text NOT NULL,
	`policy_id` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`policy_id`) REFERENCES `policies`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `policy_assignments_kind_key_idx` ON `policy_assignments` (`kind`,`key`);--> statement-breakpoint
CREATE INDEX `policy_assignments_policy_idx` ON `policy_assignments` (`policy_id`);--> statement-breakpoint
CREATE TABLE `search_terms` (
	`term` text NOT NULL,
	`subscriber_id` text NOT NULL,
	PRIMARY KEY(`term`, `subscriber_id`),
	FOREIGN KEY (`subscriber_id`) REFERENCES `subscribers`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `search_terms_subscriber_idx` ON `search_terms` (`subscriber_id`);--> statement-breakpoint
DROP INDEX `audit_device_idx`;--> statement-breakpoint
CREATE INDEX `audit_actor_idx` ON `audit_events` (`actor`,`at`);--> statement-breakpoint
CREATE INDEX `audit_action_idx` ON `audit_events` (`action`,`at`);--> statement-breakpoint
CREATE INDEX `audit_device_idx` ON `audit_events` (`device_id`,`at`);--> statement-breakpoint
ALTER TABLE `devices` ADD `group_name` text;--> statement-breakpoint
CREATE INDEX `devices_group_idx` ON `devices` (`group_name`);