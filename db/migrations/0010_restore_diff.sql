ALTER TABLE `app_packages` ADD `system_of` text;--> statement-breakpoint
ALTER TABLE `consents` ADD `reason` text;