ALTER TABLE `jobs` ADD `wake_at` integer;--> statement-breakpoint
ALTER TABLE `jobs` ADD `wake_attempts` text;--> statement-breakpoint
ALTER TABLE `jobs` ADD `deadline` integer;