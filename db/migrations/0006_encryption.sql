CREATE TABLE `blob_keys` (
	`hash` text NOT NULL,
	`owner` text NOT NULL,
	`wrapped` text NOT NULL,
	PRIMARY KEY(`hash`, `owner`)
);
--> statement-breakpoint
CREATE INDEX `blob_keys_owner_idx` ON `blob_keys` (`owner`);--> statement-breakpoint
CREATE TABLE `content_keys` (
	`owner` text PRIMARY KEY NOT NULL,
	`wrapped` text NOT NULL,
	`created_at` integer NOT NULL
);
