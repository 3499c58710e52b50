//! Diesel table definitions matching `migrations/` (kept by hand; one `table!` per table).
// `table!` generates a struct per column; the columns are documented in `migrations/`.
#![allow(missing_docs)]

diesel::table! {
    /// Users known to the backend (the JWT `sub` is the id).
    users (id) {
        id -> Uuid,
        email -> Nullable<Text>,
        role -> Text,
        currency -> Bpchar,
        timezone -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    /// Whole files a user uploaded, for file-level de-duplication by SHA-256; a chunked upload
    /// counts as imported once `completed_at` is set.
    uploaded_files (id) {
        id -> Uuid,
        user_id -> Uuid,
        file_hash -> Bpchar,
        filename -> Nullable<Text>,
        upload_type -> Text,
        row_count -> Nullable<Int4>,
        inserted -> Nullable<Int4>,
        created_at -> Timestamptz,
        chunks_expected -> Nullable<Int4>,
        chunks_received -> Int4,
        generation -> Int4,
        completed_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    /// The chunks a chunked upload has stored, per round (`generation`) and index.
    upload_chunks (uploaded_file_id, generation, chunk_index) {
        uploaded_file_id -> Uuid,
        generation -> Int4,
        chunk_index -> Int4,
        user_id -> Uuid,
        rows_hash -> Bpchar,
        received_at -> Timestamptz,
    }
}

diesel::table! {
    /// Imported bank transactions; signed amount (debit negative).
    transactions (id) {
        id -> Uuid,
        user_id -> Uuid,
        transaction_date -> Date,
        amount -> Numeric,
        currency -> Bpchar,
        #[sql_name = "type"]
        kind -> Text,
        description -> Text,
        merchant_name -> Text,
        category -> Text,
        category_source -> Text,
        category_confidence -> Nullable<Float4>,
        needs_review -> Bool,
        original_category -> Nullable<Text>,
        payment_method -> Text,
        reference -> Text,
        status -> Text,
        is_manual -> Bool,
        fingerprint -> Bpchar,
        fingerprint_version -> Int2,
        uploaded_file_id -> Nullable<Uuid>,
        raw_data -> Jsonb,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    /// Background training jobs, claimed by workers under a lease.
    training_jobs (id) {
        id -> Uuid,
        user_id -> Uuid,
        kind -> Text,
        status -> Text,
        progress -> Float4,
        metrics -> Nullable<Jsonb>,
        attempts -> Int4,
        max_attempts -> Int4,
        lease_owner -> Nullable<Text>,
        lease_until -> Nullable<Timestamptz>,
        run_after -> Timestamptz,
        error -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        started_at -> Nullable<Timestamptz>,
        finished_at -> Nullable<Timestamptz>,
        step -> Int4,
        total -> Int4,
        message -> Text,
        event_seq -> Int8,
    }
}

diesel::table! {
    /// Every visible change of a job, appended by trigger (SSE replay after `Last-Event-ID`).
    training_job_events (job_id, seq) {
        job_id -> Uuid,
        seq -> Int8,
        user_id -> Uuid,
        status -> Text,
        step -> Int4,
        total -> Int4,
        progress -> Float4,
        message -> Text,
        metrics -> Nullable<Jsonb>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    /// Fitted models, one per completed job; the artefact is never shown to clients.
    training_models (id) {
        id -> Uuid,
        user_id -> Uuid,
        kind -> Text,
        job_id -> Uuid,
        format -> Text,
        artefact -> Bytea,
        metrics -> Jsonb,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    /// Category corrections made by users; the categoriser trains on them.
    training_corrections (id) {
        id -> Uuid,
        user_id -> Uuid,
        transaction_id -> Nullable<Uuid>,
        description -> Text,
        original_category -> Nullable<Text>,
        corrected_category -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    /// What the anomaly detectors raised for a user; `id` is the alert's stable sha256 identity.
    anomaly_alerts (user_id, id) {
        user_id -> Uuid,
        id -> Bpchar,
        row_id -> Uuid,
        #[sql_name = "type"]
        kind -> Text,
        severity -> Text,
        status -> Text,
        transaction_ids -> Array<Uuid>,
        period_key -> Text,
        date -> Date,
        amount -> Float8,
        currency -> Bpchar,
        merchant -> Nullable<Text>,
        merchant_key -> Text,
        category -> Nullable<Text>,
        score -> Float8,
        message -> Text,
        details -> Jsonb,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    /// A user's anomaly detector thresholds (JSON; missing keys take the defaults).
    anomaly_settings (user_id) {
        user_id -> Uuid,
        thresholds -> Jsonb,
        updated_at -> Timestamptz,
    }
}

diesel::joinable!(transactions -> users (user_id));
diesel::joinable!(transactions -> uploaded_files (uploaded_file_id));
diesel::joinable!(uploaded_files -> users (user_id));
diesel::joinable!(upload_chunks -> uploaded_files (uploaded_file_id));
diesel::joinable!(training_jobs -> users (user_id));
diesel::joinable!(training_corrections -> users (user_id));
diesel::joinable!(training_job_events -> training_jobs (job_id));
diesel::joinable!(training_models -> training_jobs (job_id));
diesel::joinable!(training_corrections -> transactions (transaction_id));
diesel::joinable!(anomaly_alerts -> users (user_id));
diesel::joinable!(anomaly_settings -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    uploaded_files,
    upload_chunks,
    transactions,
    training_jobs,
    training_job_events,
    training_models,
    training_corrections,
    anomaly_alerts,
    anomaly_settings,
);
