CREATE TABLE "bulk_operations" (
	"id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"action" text COLLATE "C" NOT NULL,
	"request" text COLLATE "C" NOT NULL,
	"actor" text COLLATE "C" NOT NULL,
	"status" text COLLATE "C" DEFAULT 'queued' NOT NULL,
	"total" bigint DEFAULT 0 NOT NULL,
	"done" bigint DEFAULT 0 NOT NULL,
	"skipped" bigint DEFAULT 0 NOT NULL,
	"cursor" text COLLATE "C",
	"error" text COLLATE "C",
	"created_at" bigint NOT NULL,
	"updated_at" bigint,
	"finished_at" bigint
);
--> statement-breakpoint
CREATE TABLE "device_group_members" (
	"group_id" text COLLATE "C" NOT NULL,
	"device_id" text COLLATE "C" NOT NULL,
	CONSTRAINT "device_group_members_group_id_device_id_pk" PRIMARY KEY("group_id","device_id")
);
--> statement-breakpoint
CREATE TABLE "device_groups" (
	"id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"name" text COLLATE "C" NOT NULL,
	"kind" text COLLATE "C" NOT NULL,
	"rule" text COLLATE "C",
	"priority" bigint DEFAULT 100 NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "saved_views" (
	"id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"user_id" text COLLATE "C" NOT NULL,
	"name" text COLLATE "C" NOT NULL,
	"query" text COLLATE "C" NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "settings" (
	"key" text COLLATE "C" PRIMARY KEY NOT NULL,
	"value" text COLLATE "C" NOT NULL,
	"updated_by" text COLLATE "C",
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "wake_minutes" (
	"minute" bigint PRIMARY KEY NOT NULL,
	"sent" bigint DEFAULT 0 NOT NULL
);
--> statement-breakpoint
ALTER TABLE "devices" ADD COLUMN "last_good_backup_at" bigint;--> statement-breakpoint
ALTER TABLE "devices" ADD COLUMN "firmware_key" text COLLATE "C";--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "bulk_id" text COLLATE "C";--> statement-breakpoint
ALTER TABLE "policies" ADD COLUMN "safety_backup_before_updates" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "device_group_members" ADD CONSTRAINT "device_group_members_group_id_device_groups_id_fk" FOREIGN KEY ("group_id") REFERENCES "public"."device_groups"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "device_group_members" ADD CONSTRAINT "device_group_members_device_id_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."devices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "saved_views" ADD CONSTRAINT "saved_views_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "bulk_operations_created_idx" ON "bulk_operations" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "device_group_members_device_idx" ON "device_group_members" USING btree ("device_id");--> statement-breakpoint
CREATE UNIQUE INDEX "device_groups_name_idx" ON "device_groups" USING btree ("name");--> statement-breakpoint
CREATE UNIQUE INDEX "saved_views_user_name_idx" ON "saved_views" USING btree ("user_id","name");--> statement-breakpoint
CREATE INDEX "devices_model_idx" ON "devices" USING btree ("manufacturer","model","id");--> statement-breakpoint
CREATE INDEX "devices_firmware_key_idx" ON "devices" USING btree ("firmware_key","id");--> statement-breakpoint
CREATE INDEX "devices_last_good_backup_idx" ON "devices" USING btree ("last_good_backup_at","id");--> statement-breakpoint
CREATE INDEX "devices_last_seen_idx" ON "devices" USING btree ("last_seen_at","id");--> statement-breakpoint
CREATE INDEX "devices_policy_idx" ON "devices" USING btree ("policy_id");--> statement-breakpoint
CREATE INDEX "jobs_bulk_idx" ON "jobs" USING btree ("bulk_id","status");--> statement-breakpoint
UPDATE "devices" SET "last_good_backup_at" = (SELECT max("s"."completed_at") FROM "snapshots" "s" WHERE "s"."device_id" = "devices"."id" AND "s"."status" = 'complete');--> statement-breakpoint
INSERT INTO "device_groups" ("id", "name", "kind", "rule", "priority", "created_at") SELECT gen_random_uuid()::text, "group_name", 'static', NULL, 100, (extract(epoch from now()) * 1000)::bigint FROM "devices" WHERE "group_name" IS NOT NULL GROUP BY "group_name";--> statement-breakpoint
INSERT INTO "device_group_members" ("group_id", "device_id") SELECT "g"."id", "d"."id" FROM "devices" "d" JOIN "device_groups" "g" ON "g"."name" = "d"."group_name";
