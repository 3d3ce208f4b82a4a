ALTER TABLE "device_models" ADD COLUMN "change_detection" text COLLATE "C";--> statement-breakpoint
ALTER TABLE "device_models" ADD COLUMN "change_detection_at" bigint;--> statement-breakpoint
ALTER TABLE "device_models" ADD COLUMN "digest_defects" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "device_models" ADD COLUMN "last_digest_defect" text COLLATE "C";--> statement-breakpoint
ALTER TABLE "device_models" ADD COLUMN "last_digest_defect_at" bigint;--> statement-breakpoint
ALTER TABLE "policies" ADD COLUMN "verify_every_backups" bigint DEFAULT 10 NOT NULL;--> statement-breakpoint
ALTER TABLE "policies" ADD COLUMN "verify_every_days" bigint DEFAULT 7 NOT NULL;--> statement-breakpoint
ALTER TABLE "snapshots" ADD COLUMN "change_detection" text COLLATE "C";--> statement-breakpoint
ALTER TABLE "snapshots" ADD COLUMN "session_ref" text COLLATE "C";--> statement-breakpoint
ALTER TABLE "snapshots" ADD COLUMN "air_bytes_up" bigint;--> statement-breakpoint
ALTER TABLE "snapshots" ADD COLUMN "air_bytes_down" bigint;--> statement-breakpoint
ALTER TABLE "snapshots" ADD COLUMN "air_round_trips" bigint;--> statement-breakpoint
ALTER TABLE "snapshots" ADD COLUMN "digest_defect" text COLLATE "C";