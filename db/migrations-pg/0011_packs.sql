CREATE TABLE "pack_values" (
	"owner" text COLLATE "C" NOT NULL,
	"hash" text COLLATE "C" NOT NULL,
	"pack_id" text COLLATE "C" NOT NULL,
	"offset" bigint NOT NULL,
	"length" bigint NOT NULL,
	"created_at" bigint NOT NULL,
	CONSTRAINT "pack_values_owner_hash_pk" PRIMARY KEY("owner","hash")
);
--> statement-breakpoint
CREATE TABLE "packs" (
	"id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"owner" text COLLATE "C" NOT NULL,
	"size" bigint NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE INDEX "pack_values_pack_idx" ON "pack_values" USING btree ("pack_id");--> statement-breakpoint
CREATE INDEX "pack_values_hash_idx" ON "pack_values" USING btree ("hash");--> statement-breakpoint
CREATE INDEX "packs_owner_idx" ON "packs" USING btree ("owner");