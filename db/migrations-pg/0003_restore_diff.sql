ALTER TABLE "app_packages" ADD COLUMN "system_of" text COLLATE "C";--> statement-breakpoint
ALTER TABLE "consents" ADD COLUMN "reason" text COLLATE "C";