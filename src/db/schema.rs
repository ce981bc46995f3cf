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
        registration_kind -> Nullable<Text>,
        registration_number -> Nullable<Text>,
        issuing_authority -> Nullable<Text>,
        authority_level -> Nullable<Text>,
        registered_address -> Nullable<Text>,
        district -> Nullable<Text>,
        legal_rep_name -> Nullable<Text>,
        legal_rep_id_kind -> Nullable<Text>,
        legal_rep_id_number -> Nullable<Text>,
        contact_person -> Nullable<Text>,
        contact_mobile -> Nullable<Text>,
        contact_email -> Nullable<Text>,
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

diesel::table! {
    document_blobs (sha256) {
        sha256 -> Text,
        size_bytes -> BigInt,
        chunk_count -> Integer,
        created_at -> Timestamp,
    }
}

diesel::table! {
    blob_chunks (sha256, seq) {
        sha256 -> Text,
        seq -> Integer,
        data -> Binary,
    }
}

diesel::table! {
    documents (id) {
        id -> BigInt,
        institution_id -> Nullable<BigInt>,
        uploaded_by -> Nullable<BigInt>,
        kind -> Text,
        filename -> Text,
        content_type -> Text,
        size_bytes -> BigInt,
        sha256 -> Text,
        text_status -> Nullable<Text>,
        page_count -> Nullable<Integer>,
        pages -> Nullable<Text>,
        extraction_detail -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    teachers (id) {
        id -> BigInt,
        institution_id -> BigInt,
        name -> Text,
        id_kind -> Text,
        id_number -> Text,
        credentials -> Text,
        specialities -> Text,
        criminal_check_date -> Nullable<Date>,
        criminal_check_result -> Nullable<Text>,
        criminal_check_issuer -> Nullable<Text>,
        removed_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    inspections (id) {
        id -> BigInt,
        institution_id -> BigInt,
        year -> Integer,
        result -> Text,
        authority -> Text,
        document_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    rounds (id) {
        id -> BigInt,
        name -> Text,
        opens_at -> Timestamp,
        closes_at -> Timestamp,
        pool_valid_from -> Date,
        pool_valid_until -> Date,
        created_at -> Timestamp,
    }
}

diesel::table! {
    applications (id) {
        id -> BigInt,
        institution_id -> BigInt,
        round_id -> BigInt,
        status -> Text,
        proposed_items -> Text,
        approved_items -> Nullable<Text>,
        service_plan -> Text,
        teacher_ids -> Text,
        document_ids -> Text,
        pledge_signed -> Bool,
        findings -> Nullable<Text>,
        decision_note -> Nullable<Text>,
        return_deadline -> Nullable<Date>,
        submitted_at -> Nullable<Timestamp>,
        decided_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        notice_id -> Nullable<BigInt>,
        decided_by -> Nullable<BigInt>,
    }
}

diesel::table! {
    decisions (id) {
        id -> BigInt,
        application_id -> BigInt,
        reviewer_id -> BigInt,
        kind -> Text,
        approved_items -> Nullable<Text>,
        reasons -> Text,
        deadline -> Nullable<Date>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    notices (id) {
        id -> BigInt,
        title -> Text,
        round_id -> BigInt,
        published_by -> Nullable<BigInt>,
        publication_date -> Date,
        starts_on -> Date,
        ends_on -> Date,
        closes_at -> Timestamp,
        calendar_versions -> Text,
        explanation -> Text,
        window_history -> Text,
        status -> Text,
        closed_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    objections (id) {
        id -> BigInt,
        notice_id -> BigInt,
        application_id -> BigInt,
        objector_name -> Text,
        objector_mobile -> Text,
        objector_email -> Nullable<Text>,
        grounds -> Text,
        evidence_document_id -> Nullable<BigInt>,
        client_ip -> Text,
        status -> Text,
        resolution_reasons -> Nullable<Text>,
        resolved_by -> Nullable<BigInt>,
        resolved_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    pool_entries (id) {
        id -> BigInt,
        institution_id -> BigInt,
        application_id -> BigInt,
        round_id -> BigInt,
        notice_id -> Nullable<BigInt>,
        items -> Text,
        status -> Text,
        valid_from -> Date,
        valid_until -> Date,
        admitted_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
        end_reason -> Nullable<Text>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    pool_items (entry_id, code) {
        entry_id -> BigInt,
        code -> Text,
        category -> Text,
    }
}

diesel::table! {
    contracts (id) {
        id -> BigInt,
        school_id -> BigInt,
        institution_id -> BigInt,
        pool_entry_id -> BigInt,
        items -> Text,
        starts_on -> Date,
        ends_on -> Date,
        status -> Text,
        ended_on -> Nullable<Date>,
        end_reason -> Nullable<Text>,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    evaluations (id) {
        id -> BigInt,
        contract_id -> BigInt,
        institution_id -> BigInt,
        term -> Text,
        quality -> Integer,
        safety -> Integer,
        punctuality -> Integer,
        comment -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    exit_cases (id) {
        id -> BigInt,
        institution_id -> BigInt,
        status -> Text,
        opened_by -> Text,
        statement_due -> Date,
        statement -> Nullable<Text>,
        statement_document_ids -> Nullable<Text>,
        statement_filed_at -> Nullable<Timestamp>,
        decision_reasons -> Nullable<Text>,
        decided_by -> Nullable<BigInt>,
        decided_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    exit_grounds (id) {
        id -> BigInt,
        case_id -> BigInt,
        ground -> Text,
        source -> Text,
        contract_id -> Nullable<BigInt>,
        statement -> Text,
        document_ids -> Text,
        reported_by -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    bans (id) {
        id -> BigInt,
        institution_id -> BigInt,
        uscc -> Text,
        institution_name -> Text,
        exit_case_id -> Nullable<BigInt>,
        grounds -> Text,
        decided_on -> Date,
        last_day -> Date,
        may_apply_from -> Date,
        created_at -> Timestamp,
    }
}

diesel::table! {
    blacklist_entries (id) {
        id -> BigInt,
        source -> Text,
        uscc -> Text,
        name -> Text,
        listed_on -> Date,
        reason -> Text,
        imported_at -> Timestamp,
    }
}

diesel::table! {
    open_data_heads (list) {
        list -> Text,
        version -> BigInt,
    }
}

diesel::table! {
    open_data_changes (list, version) {
        list -> Text,
        version -> BigInt,
        kind -> Text,
        institution_id -> BigInt,
        subject_id -> BigInt,
        occurred_at -> Timestamp,
        record -> Text,
        sha256 -> Nullable<Text>,
    }
}

diesel::table! {
    signing_keys (key_id) {
        key_id -> Text,
        public_key_pem -> Text,
        private_key_pem -> Nullable<Text>,
        generated_slot -> Nullable<Integer>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    web_sessions (id) {
        id -> BigInt,
        token_hash -> Text,
        user_id -> BigInt,
        created_at -> Timestamp,
        last_used_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::joinable!(teachers -> institutions (institution_id));
diesel::joinable!(inspections -> institutions (institution_id));
diesel::joinable!(applications -> institutions (institution_id));
diesel::joinable!(applications -> rounds (round_id));
diesel::joinable!(users -> institutions (institution_id));
diesel::joinable!(users -> schools (school_id));
diesel::joinable!(web_sessions -> users (user_id));
diesel::joinable!(job_runs -> jobs (job_id));
diesel::joinable!(decisions -> applications (application_id));
diesel::joinable!(notices -> rounds (round_id));
diesel::joinable!(objections -> notices (notice_id));
diesel::joinable!(pool_entries -> institutions (institution_id));
diesel::joinable!(pool_items -> pool_entries (entry_id));
diesel::joinable!(contracts -> schools (school_id));
diesel::joinable!(contracts -> pool_entries (pool_entry_id));
diesel::joinable!(evaluations -> contracts (contract_id));
diesel::joinable!(exit_cases -> institutions (institution_id));
diesel::joinable!(exit_grounds -> exit_cases (case_id));

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
    documents,
    document_blobs,
    blob_chunks,
    teachers,
    inspections,
    rounds,
    applications,
    decisions,
    notices,
    objections,
    pool_entries,
    pool_items,
    contracts,
    evaluations,
    exit_cases,
    exit_grounds,
    bans,
    blacklist_entries,
    open_data_heads,
    open_data_changes,
    signing_keys,
    web_sessions,
);
