// The tables as diesel sees them; kept by hand in step with both migration folders
// (a test applies the migrations on each backend and exercises every table).

diesel::table! {
    organisations (id) {
        id -> Text,
        name -> Text,
        name_key -> Text,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        supervisors_see_pay -> Bool,
        wellbeing_contact_email -> Nullable<Text>,
        second_approver_id -> Nullable<Text>,
        mfa_for_supervisors -> Bool,
    }
}

diesel::table! {
    networks (id) {
        id -> Text,
        name -> Text,
        name_key -> Text,
        scope -> Text,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    network_memberships (network_id, organisation_id) {
        network_id -> Text,
        organisation_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        email_key -> Text,
        display_name -> Text,
        role -> Text,
        organisation_id -> Nullable<Text>,
        password_hash -> Nullable<Text>,
        active -> Bool,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    web_sessions (cookie_hash) {
        cookie_hash -> Text,
        session_id -> Text,
        csrf_token -> Text,
        last_seen_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        revoked_reason -> Nullable<Text>,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Text,
        session_id -> Text,
        issued_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Text,
        occurred_at -> Timestamp,
        actor_id -> Nullable<Text>,
        organisation_id -> Nullable<Text>,
        action -> Text,
        entity -> Text,
        entity_id -> Nullable<Text>,
        request_id -> Nullable<Text>,
    }
}

diesel::table! {
    idempotency_keys (user_id, idempotency_key) {
        user_id -> Text,
        idempotency_key -> Text,
        request_hash -> Text,
        status_code -> Integer,
        response_body -> Text,
        created_at -> Timestamp,
        response_headers -> Text,
    }
}

diesel::joinable!(network_memberships -> networks (network_id));
diesel::joinable!(network_memberships -> organisations (organisation_id));
diesel::joinable!(users -> organisations (organisation_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));
diesel::joinable!(web_sessions -> sessions (session_id));

diesel::table! {
    notifications (id) {
        id -> Text,
        organisation_id -> Nullable<Text>,
        recipient_user_id -> Nullable<Text>,
        recipient_email -> Text,
        kind -> Text,
        subject -> Text,
        body_text -> Text,
        body_html -> Text,
        dedupe_key -> Text,
        message_id -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_expires_at -> Nullable<Timestamp>,
        claim_id -> Nullable<Text>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    notification_preferences (user_id) {
        user_id -> Text,
        daily_digest -> Bool,
        muted_kinds -> Text,
        version -> Integer,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    account_tokens (token_hash) {
        token_hash -> Text,
        user_id -> Text,
        purpose -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    scheduled_runs (job, period) {
        job -> Text,
        period -> Text,
        status -> Text,
        claim_id -> Text,
        lease_expires_at -> Timestamp,
        started_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(notifications -> users (recipient_user_id));
diesel::joinable!(notification_preferences -> users (user_id));
diesel::joinable!(account_tokens -> users (user_id));

diesel::table! {
    workers (user_id) {
        user_id -> Text,
        organisation_id -> Text,
        supervisor_id -> Nullable<Text>,
        preferred_name -> Nullable<Text>,
        start_date -> Date,
        status -> Text,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    supervisor_assignments (id) {
        id -> Text,
        worker_id -> Text,
        supervisor_id -> Nullable<Text>,
        assigned_by -> Text,
        started_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    training_modules (id) {
        id -> Text,
        organisation_id -> Text,
        code -> Text,
        code_key -> Text,
        title -> Text,
        description -> Text,
        category -> Text,
        typical_minutes -> Nullable<Integer>,
        validity_months -> Nullable<Integer>,
        active -> Bool,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        mandatory -> Bool,
    }
}

diesel::table! {
    training_records (id) {
        id -> Text,
        worker_id -> Text,
        organisation_id -> Text,
        module_id -> Text,
        completed_on -> Date,
        minutes -> Integer,
        provider -> Text,
        evidence -> Text,
        status -> Text,
        expires_on -> Nullable<Date>,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        decision_reason -> Nullable<Text>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(training_records -> training_modules (module_id));
diesel::joinable!(training_records -> workers (worker_id));
diesel::joinable!(supervisor_assignments -> workers (worker_id));

diesel::table! {
    competencies (id) {
        id -> Text,
        organisation_id -> Text,
        code -> Text,
        code_key -> Text,
        domain -> Text,
        title -> Text,
        description -> Text,
        observations_required -> Integer,
        active -> Bool,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    competency_assessors (competency_id, user_id) {
        competency_id -> Text,
        user_id -> Text,
        granted_by -> Text,
        granted_at -> Timestamp,
    }
}

diesel::table! {
    competency_signoffs (id) {
        id -> Text,
        worker_id -> Text,
        organisation_id -> Text,
        competency_id -> Text,
        status -> Text,
        evidence -> Text,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        reason -> Nullable<Text>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    signoff_events (id) {
        id -> Text,
        signoff_id -> Text,
        occurred_at -> Timestamp,
        actor_id -> Text,
        action -> Text,
        note -> Nullable<Text>,
    }
}

diesel::table! {
    observations (id) {
        id -> Text,
        worker_id -> Text,
        organisation_id -> Text,
        competency_id -> Text,
        observer_id -> Text,
        observed_on -> Date,
        outcome -> Text,
        note -> Text,
        created_at -> Timestamp,
        superseded_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(competency_signoffs -> competencies (competency_id));
diesel::joinable!(competency_signoffs -> workers (worker_id));
diesel::joinable!(signoff_events -> competency_signoffs (signoff_id));

diesel::table! {
    supervision_sessions (id) {
        id -> Text,
        worker_id -> Text,
        organisation_id -> Text,
        supervisor_id -> Text,
        held_on -> Date,
        minutes -> Integer,
        kind -> Text,
        theme -> Text,
        confirmed_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    salary_bands (id) {
        id -> Text,
        organisation_id -> Nullable<Text>,
        code -> Text,
        code_key -> Text,
        name -> Text,
        currency -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    pay_tables (id) {
        id -> Text,
        band_id -> Text,
        effective_from -> Date,
        source -> Text,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    pay_points (pay_table_id, point) {
        pay_table_id -> Text,
        point -> Integer,
        annual_minor -> BigInt,
        years_to_next -> Nullable<Integer>,
    }
}

diesel::table! {
    salary_assignments (id) {
        id -> Text,
        worker_id -> Text,
        organisation_id -> Text,
        band_id -> Text,
        pay_table_id -> Text,
        point -> Integer,
        annual_minor -> BigInt,
        currency -> Text,
        effective_from -> Date,
        reason -> Text,
        note -> Text,
        approved_by -> Text,
        progression_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    pay_table_corrections (id) {
        id -> Text,
        pay_table_id -> Text,
        note -> Text,
        previous_points -> Text,
        corrected_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    salary_corrections (id) {
        id -> Text,
        assignment_id -> Text,
        correction_id -> Text,
        previous_annual_minor -> BigInt,
        annual_minor -> BigInt,
    }
}

diesel::table! {
    pathways (id) {
        id -> Text,
        organisation_id -> Text,
        name -> Text,
        name_key -> Text,
        description -> Text,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    pathway_stages (id) {
        id -> Text,
        pathway_id -> Text,
        position -> Integer,
        name -> Text,
        band_id -> Nullable<Text>,
        min_months_in_previous -> Integer,
        supervision_minutes -> Integer,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    stage_modules (stage_id, module_id) {
        stage_id -> Text,
        module_id -> Text,
    }
}

diesel::table! {
    stage_competencies (stage_id, competency_id) {
        stage_id -> Text,
        competency_id -> Text,
    }
}

diesel::table! {
    stage_history (id) {
        id -> Text,
        worker_id -> Text,
        organisation_id -> Text,
        pathway_id -> Text,
        stage_id -> Text,
        stage_name -> Text,
        started_on -> Date,
        ended_on -> Nullable<Date>,
        reason -> Text,
        progression_id -> Nullable<Text>,
        recorded_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    progressions (id) {
        id -> Text,
        worker_id -> Text,
        organisation_id -> Text,
        from_stage_id -> Text,
        to_stage_id -> Text,
        to_stage_name -> Text,
        status -> Text,
        rationale -> Text,
        proposed_by -> Text,
        eligible_when_proposed -> Bool,
        proposal_snapshot -> Text,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        decision_reason -> Nullable<Text>,
        effective_on -> Nullable<Date>,
        eligible_when_decided -> Nullable<Bool>,
        decision_snapshot -> Nullable<Text>,
        override_reason -> Nullable<Text>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        decided_as -> Nullable<Text>,
    }
}

diesel::table! {
    appraisals (id) {
        id -> Text,
        worker_id -> Text,
        organisation_id -> Text,
        held_on -> Date,
        appraiser_id -> Text,
        recorded_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    wellbeing_pauses (id) {
        id -> Text,
        worker_id -> Text,
        organisation_id -> Text,
        starts_on -> Date,
        planned_return_on -> Nullable<Date>,
        ended_on -> Nullable<Date>,
        category -> Text,
        recorded_by -> Text,
        ended_by -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    recovery_plans (worker_id) {
        worker_id -> Text,
        organisation_id -> Text,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    recovery_plan_sections (worker_id, section) {
        worker_id -> Text,
        section -> Text,
        key_id -> Text,
        content -> Binary,
        shared -> Bool,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    checkin_cadences (worker_id) {
        worker_id -> Text,
        organisation_id -> Text,
        every_days -> Integer,
        since -> Date,
        agreed_by -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    checkins (id) {
        id -> Text,
        worker_id -> Text,
        organisation_id -> Text,
        held_on -> Date,
        with_supervisor -> Bool,
        wellbeing -> Integer,
        risk -> Text,
        call_requested -> Bool,
        key_id -> Text,
        actions -> Nullable<Binary>,
        notes -> Nullable<Binary>,
        actions_shared -> Bool,
        notes_shared -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        recorded_by -> Nullable<Text>,
    }
}

diesel::joinable!(pay_tables -> salary_bands (band_id));
diesel::joinable!(pay_points -> pay_tables (pay_table_id));
diesel::joinable!(pathway_stages -> pathways (pathway_id));
diesel::joinable!(stage_modules -> pathway_stages (stage_id));
diesel::joinable!(stage_modules -> training_modules (module_id));
diesel::joinable!(stage_competencies -> pathway_stages (stage_id));
diesel::joinable!(stage_competencies -> competencies (competency_id));

diesel::table! {
    mfa_factors (user_id) {
        user_id -> Text,
        key_id -> Text,
        secret -> Binary,
        confirmed_at -> Nullable<Timestamp>,
        last_used_step -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    mfa_recovery_codes (code_hash) {
        code_hash -> Text,
        user_id -> Text,
        used_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    mfa_challenges (token_hash) {
        token_hash -> Text,
        user_id -> Text,
        enrolment -> Bool,
        attempts -> Integer,
        expires_at -> Timestamp,
        created_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    mfa_factors,
    mfa_recovery_codes,
    mfa_challenges,
    organisations,
    networks,
    network_memberships,
    users,
    sessions,
    web_sessions,
    refresh_tokens,
    audit_events,
    idempotency_keys,
    notifications,
    notification_preferences,
    account_tokens,
    scheduled_runs,
    workers,
    supervisor_assignments,
    training_modules,
    training_records,
    competencies,
    competency_assessors,
    competency_signoffs,
    signoff_events,
    observations,
    supervision_sessions,
    salary_bands,
    pay_tables,
    pay_points,
    salary_assignments,
    pay_table_corrections,
    salary_corrections,
    pathways,
    pathway_stages,
    stage_modules,
    stage_competencies,
    stage_history,
    progressions,
    appraisals,
    wellbeing_pauses,
    recovery_plans,
    recovery_plan_sections,
    checkin_cadences,
    checkins,
);

diesel::allow_columns_to_appear_in_same_group_by_clause!(stage_history::stage_id, workers::status);
