CREATE TABLE "device_attempts" (
	"id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"device_id" text COLLATE "C" NOT NULL,
	"channel" text COLLATE "C" NOT NULL,
	"reason" text COLLATE "C" NOT NULL,
	"count" bigint DEFAULT 1 NOT NULL,
	"first_at" bigint NOT NULL,
	"last_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "firmware_runs" (
	"id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"device_id" text COLLATE "C" NOT NULL,
	"firmware" text COLLATE "C" NOT NULL,
	"first_seen_at" bigint NOT NULL,
	"last_seen_at" bigint NOT NULL
);
--> statement-breakpoint
ALTER TABLE "dm_sessions" ADD COLUMN "initiator" text COLLATE "C";--> statement-breakpoint
ALTER TABLE "dm_sessions" ADD COLUMN "end_reason" text COLLATE "C";--> statement-breakpoint
ALTER TABLE "device_attempts" ADD CONSTRAINT "device_attempts_device_id_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."devices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "firmware_runs" ADD CONSTRAINT "firmware_runs_device_id_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."devices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "device_attempts_device_idx" ON "device_attempts" USING btree ("device_id","last_at");--> statement-breakpoint
CREATE INDEX "firmware_runs_device_idx" ON "firmware_runs" USING btree ("device_id","last_seen_at");--> statement-breakpoint
CREATE INDEX "firmware_runs_firmware_idx" ON "firmware_runs" USING btree ("firmware","first_seen_at");