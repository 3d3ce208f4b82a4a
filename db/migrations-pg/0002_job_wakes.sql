ALTER TABLE "jobs" ADD COLUMN "wake_at" bigint;--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "wake_attempts" text COLLATE "C";--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "deadline" bigint;