//! Table definitions shared by both backends (written by hand; see `diesel.toml`).
//! Only portable column types: BigInt, Integer, Text, Bool, Timestamp (naive UTC) and Date.

diesel::table! {
    schools (id) {
        id -> BigInt,
        name -> Text,
        code -> Text,
        district -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    institutions (id) {
        id -> BigInt,
        name -> Text,
        uscc -> Text,
        entity_type -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        email -> Text,
        password_hash -> Text,
        role -> Text,
        display_name -> Text,
        institution_id -> Nullable<BigInt>,
        school_id -> Nullable<BigInt>,
        disabled_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    login_failures (id) {
        id -> BigInt,
        email -> Text,
        failed_at -> Timestamp,
    }
}

diesel::table! {
    audit_events (id) {
        id -> BigInt,
        seq -> BigInt,
        occurred_at -> Timestamp,
        actor_id -> Nullable<BigInt>,
        actor_role -> Text,
        action -> Text,
        entity_type -> Text,
        entity_id -> Text,
        summary -> Text,
        request_id -> Nullable<Text>,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    audit_head (id) {
        id -> Integer,
        seq -> BigInt,
        hash -> Text,
    }
}

diesel::table! {
    jobs (id) {
        id -> BigInt,
        kind -> Text,
        payload -> Text,
        dedup_key -> Nullable<Text>,
        state -> Text,
        attempts -> Integer,
        max_attempts -> Integer,
        run_at -> Timestamp,
        locked_by -> Nullable<Text>,
        locked_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    job_runs (id) {
        id -> BigInt,
        job_id -> BigInt,
        worker -> Text,
        attempt -> Integer,
        started_at -> Timestamp,
        finished_at -> Timestamp,
        outcome -> Text,
        error -> Nullable<Text>,
    }
}

diesel::table! {
    calendar_years (year) {
        year -> Integer,
        version -> Integer,
        source -> Text,
        data -> Text,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(users -> institutions (institution_id));
diesel::joinable!(users -> schools (school_id));
diesel::joinable!(job_runs -> jobs (job_id));

diesel::allow_tables_to_appear_in_same_query!(
    schools,
    institutions,
    users,
    login_failures,
    audit_events,
    audit_head,
    jobs,
    job_runs,
    calendar_years,
);
