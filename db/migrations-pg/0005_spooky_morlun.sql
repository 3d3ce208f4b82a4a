CREATE TABLE "deployment" (
	"id" bigint PRIMARY KEY NOT NULL,
	"blob_store" text COLLATE "C" NOT NULL,
	"blob_bucket" text COLLATE "C",
	"blob_prefix" text COLLATE "C",
	"blob_dir" text COLLATE "C",
	"key_fingerprint" text COLLATE "C" NOT NULL,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL
);
