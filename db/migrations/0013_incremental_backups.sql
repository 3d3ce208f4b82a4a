ALTER TABLE `device_models` ADD `change_detection` text;--> statement-breakpoint
ALTER TABLE `device_models` ADD `change_detection_at` integer;--> statement-breakpoint
ALTER TABLE `device_models` ADD `digest_defects` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `device_models` ADD `last_digest_defect` text;--> statement-breakpoint
ALTER TABLE `device_models` ADD `last_digest_defect_at` integer;--> statement-breakpoint
ALTER TABLE `policies` ADD `verify_every_backups` integer DEFAULT 10 NOT NULL;--> statement-breakpoint
ALTER TABLE `policies` ADD `verify_every_days` integer DEFAULT 7 NOT NULL;--> statement-breakpoint
ALTER TABLE `snapshots` ADD `change_detection` text;--> statement-breakpoint
ALTER TABLE `snapshots` ADD `session_ref` text;--> statement-breakpoint
ALTER TABLE `snapshots` ADD `air_bytes_up` integer;--> statement-breakpoint
ALTER TABLE `snapshots` ADD `air_bytes_down` integer;--> statement-breakpoint
ALTER TABLE `snapshots` ADD `air_round_trips` integer;--> statement-breakpoint
ALTER TABLE `snapshots` ADD `digest_defect` text;