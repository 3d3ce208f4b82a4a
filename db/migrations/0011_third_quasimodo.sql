CREATE TABLE `deployment` (
	`id` integer PRIMARY KEY NOT NULL,
	`blob_store` text NOT NULL,
	`blob_bucket` text,
	`blob_prefix` text,
	`blob_dir` text,
	`key_fingerprint` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `dm_sessions` ADD `process_id` text;