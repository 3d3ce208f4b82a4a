DROP INDEX `devices_group_idx`;--> statement-breakpoint
ALTER TABLE `devices` DROP COLUMN `group_name`;