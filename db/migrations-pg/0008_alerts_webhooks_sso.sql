ALTER TABLE "api_tokens" ADD COLUMN "scope" text COLLATE "C" DEFAULT 'full' NOT NULL;--> statement-breakpoint
ALTER TABLE "api_tokens" ADD COLUMN "expires_at" bigint;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "sso_subject" text COLLATE "C";--> statement-breakpoint
CREATE UNIQUE INDEX "users_sso_subject_idx" ON "users" USING btree ("sso_subject");