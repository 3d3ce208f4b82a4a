CREATE TABLE `pack_values` (
	`owner` text NOT NULL,
	`hash` text NOT NULL,
	`pack_id` text NOT NULL,
	`offset` integer NOT NULL,
	`length` integer NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`owner`, `hash`)
);
--> statement-breakpoint
CREATE INDEX `pack_values_pack_idx` ON `pack_values` (`pack_id`);--> statement-breakpoint
CREATE INDEX `pack_values_hash_idx` ON `pack_values` (`hash`);--> statement-breakpoint
CREATE TABLE `packs` (
	`id` text PRIMARY KEY NOT NULL,
	`owner` text NOT NULL,
	`size` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `packs_owner_idx` ON `packs` (`owner`);