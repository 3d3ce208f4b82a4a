CREATE TABLE "api_tokens" (
	"id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"name" text COLLATE "C" NOT NULL,
	"token_hash" text COLLATE "C" NOT NULL,
	"role" text COLLATE "C" NOT NULL,
	"created_at" bigint NOT NULL,
	"last_used_at" bigint,
	"revoked_at" bigint
);
--> statement-breakpoint
CREATE TABLE "app_packages" (
	"id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"app_id" text COLLATE "C" NOT NULL,
	"name" text COLLATE "C" NOT NULL,
	"version" text COLLATE "C" NOT NULL,
	"models" text COLLATE "C",
	"blob_hash" text COLLATE "C" NOT NULL,
	"size" bigint NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "audit_events" (
	"id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"at" bigint NOT NULL,
	"actor" text COLLATE "C" NOT NULL,
	"action" text COLLATE "C" NOT NULL,
	"device_id" text COLLATE "C",
	"details" text COLLATE "C"
);
--> statement-breakpoint
CREATE TABLE "backup_profiles" (
	"id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"model_id" text COLLATE "C" NOT NULL,
	"category" text COLLATE "C" NOT NULL,
	"paths" text COLLATE "C" NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "blob_keys" (
	"hash" text COLLATE "C" NOT NULL,
	"owner" text COLLATE "C" NOT NULL,
	"wrapped" text COLLATE "C" NOT NULL,
	CONSTRAINT "blob_keys_hash_owner_pk" PRIMARY KEY("hash","owner")
);
--> statement-breakpoint
CREATE TABLE "blobs" (
	"hash" text COLLATE "C" PRIMARY KEY NOT NULL,
	"size" bigint NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "consents" (
	"id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"device_id" text COLLATE "C" NOT NULL,
	"subscriber_id" text COLLATE "C",
	"job_id" text COLLATE "C",
	"code" text COLLATE "C" NOT NULL,
	"prompt" text COLLATE "C" NOT NULL,
	"prompt_version" text COLLATE "C" NOT NULL,
	"answer" text COLLATE "C" NOT NULL,
	"network" text COLLATE "C",
	"cost" text COLLATE "C",
	"at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "content_keys" (
	"owner" text COLLATE "C" PRIMARY KEY NOT NULL,
	"wrapped" text COLLATE "C" NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "device_links" (
	"id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"from_device_id" text COLLATE "C" NOT NULL,
	"to_device_id" text COLLATE "C" NOT NULL,
	"reason" text COLLATE "C" NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "device_models" (
	"id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"manufacturer" text COLLATE "C" NOT NULL,
	"model" text COLLATE "C" NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "devices" (
	"id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"dev_id" text COLLATE "C" NOT NULL,
	"manufacturer" text COLLATE "C",
	"model" text COLLATE "C",
	"firmware" text COLLATE "C",
	"subscriber_id" text COLLATE "C",
	"server_id" text COLLATE "C" NOT NULL,
	"client_auth" text COLLATE "C" NOT NULL,
	"client_user" text COLLATE "C" NOT NULL,
	"client_derived" text COLLATE "C" NOT NULL,
	"client_password" text COLLATE "C",
	"server_auth" text COLLATE "C" NOT NULL,
	"server_derived" text COLLATE "C" NOT NULL,
	"server_password" text COLLATE "C",
	"client_nonce" text COLLATE "C" DEFAULT '' NOT NULL,
	"server_nonce" text COLLATE "C" DEFAULT '' NOT NULL,
	"push_address" text COLLATE "C",
	"encoding" text COLLATE "C",
	"last_seen_at" bigint,
	"network_state" text COLLATE "C",
	"device_info" text COLLATE "C",
	"policy_id" text COLLATE "C",
	"group_name" text COLLATE "C",
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "dm_session_values" (
	"session_row_id" text COLLATE "C" NOT NULL,
	"hash" text COLLATE "C" NOT NULL,
	"data" text COLLATE "C" NOT NULL
);
--> statement-breakpoint
CREATE TABLE "dm_sessions" (
	"id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"device_id" text COLLATE "C" NOT NULL,
	"session_id" text COLLATE "C" NOT NULL,
	"status" text COLLATE "C" DEFAULT 'active' NOT NULL,
	"state" text COLLATE "C" NOT NULL,
	"messages" bigint DEFAULT 0 NOT NULL,
	"bytes_in" bigint DEFAULT 0 NOT NULL,
	"bytes_out" bigint DEFAULT 0 NOT NULL,
	"error" text COLLATE "C",
	"ready_at" bigint,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ds_accounts" (
	"id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"device_id" text COLLATE "C" NOT NULL,
	"username" text COLLATE "C" NOT NULL,
	"derived" text COLLATE "C" NOT NULL,
	"auth" text COLLATE "C" DEFAULT 'basic' NOT NULL,
	"nonce" text COLLATE "C" DEFAULT '' NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ds_items" (
	"id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"account_id" text COLLATE "C" NOT NULL,
	"store" text COLLATE "C" NOT NULL,
	"luid" text COLLATE "C",
	"content_type" text COLLATE "C" NOT NULL,
	"hash" text COLLATE "C" NOT NULL,
	"size" bigint NOT NULL,
	"summary" text COLLATE "C" DEFAULT '' NOT NULL,
	"uid" text COLLATE "C",
	"pending" text COLLATE "C",
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ds_sessions" (
	"id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"source" text COLLATE "C" NOT NULL,
	"session_id" text COLLATE "C" NOT NULL,
	"account_id" text COLLATE "C",
	"status" text COLLATE "C" DEFAULT 'active' NOT NULL,
	"state" text COLLATE "C" NOT NULL,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ds_snapshots" (
	"id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"device_id" text COLLATE "C" NOT NULL,
	"account_id" text COLLATE "C" NOT NULL,
	"job_id" text COLLATE "C",
	"sync_type" text COLLATE "C" NOT NULL,
	"root_hash" text COLLATE "C" NOT NULL,
	"contacts" bigint NOT NULL,
	"events" bigint NOT NULL,
	"bytes" bigint NOT NULL,
	"new_bytes" bigint NOT NULL,
	"changes" text COLLATE "C" DEFAULT '{}' NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ds_stores" (
	"account_id" text COLLATE "C" NOT NULL,
	"store" text COLLATE "C" NOT NULL,
	"client_anchor" text COLLATE "C",
	"server_anchor" text COLLATE "C",
	"client_uri" text COLLATE "C",
	"synced_at" bigint,
	"last_sync_type" text COLLATE "C",
	CONSTRAINT "ds_stores_account_id_store_pk" PRIMARY KEY("account_id","store")
);
--> statement-breakpoint
CREATE TABLE "firmware_packages" (
	"id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"manufacturer" text COLLATE "C" NOT NULL,
	"model" text COLLATE "C" NOT NULL,
	"version" text COLLATE "C" NOT NULL,
	"name" text COLLATE "C",
	"blob_hash" text COLLATE "C" NOT NULL,
	"size" bigint NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "jobs" (
	"id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"device_id" text COLLATE "C" NOT NULL,
	"kind" text COLLATE "C" NOT NULL,
	"status" text COLLATE "C" DEFAULT 'queued' NOT NULL,
	"payload" text COLLATE "C" DEFAULT '{}' NOT NULL,
	"result" text COLLATE "C",
	"error" text COLLATE "C",
	"session_ref" text COLLATE "C",
	"progress" text COLLATE "C",
	"depends_on" text COLLATE "C",
	"wake_pending" integer DEFAULT 0 NOT NULL,
	"attempts" bigint DEFAULT 0 NOT NULL,
	"not_before" bigint,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "leases" (
	"name" text COLLATE "C" PRIMARY KEY NOT NULL,
	"holder" text COLLATE "C" NOT NULL,
	"expires_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "local_backups" (
	"id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"device_id" text COLLATE "C" NOT NULL,
	"local_id" text COLLATE "C" NOT NULL,
	"target" text COLLATE "C" NOT NULL,
	"taken_at" text COLLATE "C" NOT NULL,
	"categories" text COLLATE "C" NOT NULL,
	"entries" bigint NOT NULL,
	"size" bigint NOT NULL,
	"root_hash" text COLLATE "C" NOT NULL,
	"job_id" text COLLATE "C",
	"reported_at" bigint NOT NULL,
	"gone_at" bigint
);
--> statement-breakpoint
CREATE TABLE "msisdns" (
	"msisdn" text COLLATE "C" PRIMARY KEY NOT NULL,
	"subscriber_id" text COLLATE "C" NOT NULL
);
--> statement-breakpoint
CREATE TABLE "policies" (
	"id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"name" text COLLATE "C" NOT NULL,
	"categories" text COLLATE "C" NOT NULL,
	"interval_minutes" bigint NOT NULL,
	"jitter_minutes" bigint DEFAULT 0 NOT NULL,
	"wifi_only" integer DEFAULT 0 NOT NULL,
	"roaming_allowed" integer DEFAULT 0 NOT NULL,
	"retention" text COLLATE "C" DEFAULT '{}' NOT NULL,
	"is_default" integer DEFAULT 0 NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "policy_assignments" (
	"id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"kind" text COLLATE "C" NOT NULL,
	"key" text COLLATE "C" NOT NULL,
	"policy_id" text COLLATE "C" NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "restore_items" (
	"id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"job_id" text COLLATE "C" NOT NULL,
	"seq" bigint NOT NULL,
	"kind" text COLLATE "C" NOT NULL,
	"path" text COLLATE "C" NOT NULL,
	"op" text COLLATE "C" NOT NULL,
	"status" text COLLATE "C" DEFAULT 'pending' NOT NULL,
	"code" bigint,
	"detail" text COLLATE "C",
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "restore_plans" (
	"id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"snapshot_id" text COLLATE "C" NOT NULL,
	"source_device_id" text COLLATE "C" NOT NULL,
	"target_device_id" text COLLATE "C" NOT NULL,
	"plan" text COLLATE "C" NOT NULL,
	"plan_hash" text COLLATE "C" NOT NULL,
	"created_by" text COLLATE "C" NOT NULL,
	"job_id" text COLLATE "C",
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "search_terms" (
	"term" text COLLATE "C" NOT NULL,
	"subscriber_id" text COLLATE "C" NOT NULL,
	CONSTRAINT "search_terms_term_subscriber_id_pk" PRIMARY KEY("term","subscriber_id")
);
--> statement-breakpoint
CREATE TABLE "snapshot_staging" (
	"snapshot_id" text COLLATE "C" NOT NULL,
	"path" text COLLATE "C" NOT NULL,
	"category" text COLLATE "C" NOT NULL,
	"format" text COLLATE "C" NOT NULL,
	"type" text COLLATE "C",
	"size" bigint NOT NULL,
	"hash" text COLLATE "C"
);
--> statement-breakpoint
CREATE TABLE "snapshots" (
	"id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"device_id" text COLLATE "C" NOT NULL,
	"job_id" text COLLATE "C",
	"trigger" text COLLATE "C" NOT NULL,
	"status" text COLLATE "C" DEFAULT 'incomplete' NOT NULL,
	"categories" text COLLATE "C" NOT NULL,
	"root_hash" text COLLATE "C",
	"entries" bigint DEFAULT 0 NOT NULL,
	"bytes" bigint DEFAULT 0 NOT NULL,
	"new_bytes" bigint DEFAULT 0 NOT NULL,
	"legal_hold" integer DEFAULT 0 NOT NULL,
	"error" text COLLATE "C",
	"started_at" bigint NOT NULL,
	"completed_at" bigint
);
--> statement-breakpoint
CREATE TABLE "subscribers" (
	"id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"name" text COLLATE "C" NOT NULL,
	"email" text COLLATE "C",
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"email" text COLLATE "C" NOT NULL,
	"password_hash" text COLLATE "C" NOT NULL,
	"role" text COLLATE "C" NOT NULL,
	"subscriber_id" text COLLATE "C",
	"failed_attempts" bigint DEFAULT 0 NOT NULL,
	"locked_until" bigint,
	"created_at" bigint NOT NULL,
	"last_sign_in_at" bigint
);
--> statement-breakpoint
CREATE TABLE "web_sessions" (
	"id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"user_id" text COLLATE "C" NOT NULL,
	"expires_at" bigint NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
ALTER TABLE "backup_profiles" ADD CONSTRAINT "backup_profiles_model_id_device_models_id_fk" FOREIGN KEY ("model_id") REFERENCES "public"."device_models"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "consents" ADD CONSTRAINT "consents_device_id_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."devices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "device_links" ADD CONSTRAINT "device_links_from_device_id_devices_id_fk" FOREIGN KEY ("from_device_id") REFERENCES "public"."devices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "device_links" ADD CONSTRAINT "device_links_to_device_id_devices_id_fk" FOREIGN KEY ("to_device_id") REFERENCES "public"."devices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "devices" ADD CONSTRAINT "devices_subscriber_id_subscribers_id_fk" FOREIGN KEY ("subscriber_id") REFERENCES "public"."subscribers"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dm_session_values" ADD CONSTRAINT "dm_session_values_session_row_id_dm_sessions_id_fk" FOREIGN KEY ("session_row_id") REFERENCES "public"."dm_sessions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dm_sessions" ADD CONSTRAINT "dm_sessions_device_id_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."devices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ds_accounts" ADD CONSTRAINT "ds_accounts_device_id_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."devices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ds_items" ADD CONSTRAINT "ds_items_account_id_ds_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."ds_accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ds_snapshots" ADD CONSTRAINT "ds_snapshots_device_id_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."devices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ds_stores" ADD CONSTRAINT "ds_stores_account_id_ds_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."ds_accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_device_id_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."devices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "local_backups" ADD CONSTRAINT "local_backups_device_id_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."devices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "msisdns" ADD CONSTRAINT "msisdns_subscriber_id_subscribers_id_fk" FOREIGN KEY ("subscriber_id") REFERENCES "public"."subscribers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "policy_assignments" ADD CONSTRAINT "policy_assignments_policy_id_policies_id_fk" FOREIGN KEY ("policy_id") REFERENCES "public"."policies"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "restore_items" ADD CONSTRAINT "restore_items_job_id_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."jobs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "restore_plans" ADD CONSTRAINT "restore_plans_snapshot_id_snapshots_id_fk" FOREIGN KEY ("snapshot_id") REFERENCES "public"."snapshots"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "restore_plans" ADD CONSTRAINT "restore_plans_source_device_id_devices_id_fk" FOREIGN KEY ("source_device_id") REFERENCES "public"."devices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "restore_plans" ADD CONSTRAINT "restore_plans_target_device_id_devices_id_fk" FOREIGN KEY ("target_device_id") REFERENCES "public"."devices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "search_terms" ADD CONSTRAINT "search_terms_subscriber_id_subscribers_id_fk" FOREIGN KEY ("subscriber_id") REFERENCES "public"."subscribers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "snapshot_staging" ADD CONSTRAINT "snapshot_staging_snapshot_id_snapshots_id_fk" FOREIGN KEY ("snapshot_id") REFERENCES "public"."snapshots"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "snapshots" ADD CONSTRAINT "snapshots_device_id_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."devices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "users" ADD CONSTRAINT "users_subscriber_id_subscribers_id_fk" FOREIGN KEY ("subscriber_id") REFERENCES "public"."subscribers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "web_sessions" ADD CONSTRAINT "web_sessions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "api_tokens_hash_idx" ON "api_tokens" USING btree ("token_hash");--> statement-breakpoint
CREATE UNIQUE INDEX "app_packages_app_version_idx" ON "app_packages" USING btree ("app_id","version");--> statement-breakpoint
CREATE INDEX "audit_at_idx" ON "audit_events" USING btree ("at");--> statement-breakpoint
CREATE INDEX "audit_device_idx" ON "audit_events" USING btree ("device_id","at");--> statement-breakpoint
CREATE INDEX "audit_actor_idx" ON "audit_events" USING btree ("actor","at");--> statement-breakpoint
CREATE INDEX "audit_action_idx" ON "audit_events" USING btree ("action","at");--> statement-breakpoint
CREATE UNIQUE INDEX "backup_profiles_model_category_idx" ON "backup_profiles" USING btree ("model_id","category");--> statement-breakpoint
CREATE INDEX "blob_keys_owner_idx" ON "blob_keys" USING btree ("owner");--> statement-breakpoint
CREATE INDEX "consents_device_idx" ON "consents" USING btree ("device_id","at");--> statement-breakpoint
CREATE INDEX "consents_subscriber_idx" ON "consents" USING btree ("subscriber_id","at");--> statement-breakpoint
CREATE UNIQUE INDEX "device_links_pair_idx" ON "device_links" USING btree ("from_device_id","to_device_id");--> statement-breakpoint
CREATE UNIQUE INDEX "device_models_man_mod_idx" ON "device_models" USING btree ("manufacturer","model");--> statement-breakpoint
CREATE UNIQUE INDEX "devices_dev_id_idx" ON "devices" USING btree ("dev_id");--> statement-breakpoint
CREATE INDEX "devices_subscriber_idx" ON "devices" USING btree ("subscriber_id");--> statement-breakpoint
CREATE INDEX "devices_group_idx" ON "devices" USING btree ("group_name");--> statement-breakpoint
CREATE UNIQUE INDEX "dm_session_values_pk" ON "dm_session_values" USING btree ("session_row_id","hash");--> statement-breakpoint
CREATE INDEX "dm_sessions_device_idx" ON "dm_sessions" USING btree ("device_id","session_id");--> statement-breakpoint
CREATE INDEX "dm_sessions_status_idx" ON "dm_sessions" USING btree ("status","updated_at");--> statement-breakpoint
CREATE UNIQUE INDEX "ds_accounts_username_idx" ON "ds_accounts" USING btree ("username");--> statement-breakpoint
CREATE INDEX "ds_accounts_device_idx" ON "ds_accounts" USING btree ("device_id");--> statement-breakpoint
CREATE INDEX "ds_items_account_store_idx" ON "ds_items" USING btree ("account_id","store");--> statement-breakpoint
CREATE UNIQUE INDEX "ds_items_luid_idx" ON "ds_items" USING btree ("account_id","store","luid");--> statement-breakpoint
CREATE INDEX "ds_sessions_lookup_idx" ON "ds_sessions" USING btree ("source","session_id","status");--> statement-breakpoint
CREATE INDEX "ds_snapshots_device_idx" ON "ds_snapshots" USING btree ("device_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "firmware_packages_model_version_idx" ON "firmware_packages" USING btree ("manufacturer","model","version");--> statement-breakpoint
CREATE INDEX "jobs_device_status_idx" ON "jobs" USING btree ("device_id","status");--> statement-breakpoint
CREATE INDEX "jobs_status_idx" ON "jobs" USING btree ("status","not_before");--> statement-breakpoint
CREATE INDEX "jobs_wake_idx" ON "jobs" USING btree ("wake_pending");--> statement-breakpoint
CREATE UNIQUE INDEX "local_backups_device_local_idx" ON "local_backups" USING btree ("device_id","local_id");--> statement-breakpoint
CREATE INDEX "msisdns_subscriber_idx" ON "msisdns" USING btree ("subscriber_id");--> statement-breakpoint
CREATE UNIQUE INDEX "policies_name_idx" ON "policies" USING btree ("name");--> statement-breakpoint
CREATE UNIQUE INDEX "policy_assignments_kind_key_idx" ON "policy_assignments" USING btree ("kind","key");--> statement-breakpoint
CREATE INDEX "policy_assignments_policy_idx" ON "policy_assignments" USING btree ("policy_id");--> statement-breakpoint
CREATE UNIQUE INDEX "restore_items_job_seq_idx" ON "restore_items" USING btree ("job_id","seq");--> statement-breakpoint
CREATE INDEX "restore_items_job_status_idx" ON "restore_items" USING btree ("job_id","status");--> statement-breakpoint
CREATE INDEX "restore_plans_target_idx" ON "restore_plans" USING btree ("target_device_id");--> statement-breakpoint
CREATE INDEX "search_terms_subscriber_idx" ON "search_terms" USING btree ("subscriber_id");--> statement-breakpoint
CREATE UNIQUE INDEX "snapshot_staging_pk" ON "snapshot_staging" USING btree ("snapshot_id","path");--> statement-breakpoint
CREATE INDEX "snapshots_device_idx" ON "snapshots" USING btree ("device_id","started_at");--> statement-breakpoint
CREATE INDEX "snapshots_root_idx" ON "snapshots" USING btree ("root_hash");--> statement-breakpoint
CREATE INDEX "subscribers_name_idx" ON "subscribers" USING btree ("name");--> statement-breakpoint
CREATE INDEX "subscribers_email_idx" ON "subscribers" USING btree ("email");--> statement-breakpoint
CREATE UNIQUE INDEX "users_email_idx" ON "users" USING btree ("email");--> statement-breakpoint
CREATE INDEX "users_subscriber_idx" ON "users" USING btree ("subscriber_id");--> statement-breakpoint
CREATE INDEX "web_sessions_user_idx" ON "web_sessions" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "web_sessions_expires_idx" ON "web_sessions" USING btree ("expires_at");