-- The tables of docs/contracts.md that the stream writes or reads, as plain DDL.
-- The real ones come from triage_app's migrations; the sink tests build these in a
-- scratch schema of their own so they never touch the app's rows, and use the app's
-- real table definitions instead (CREATE TABLE ... LIKE) when the migrations have run.
CREATE TABLE triage_complaint (
    id uuid PRIMARY KEY,
    tracking_code varchar(64) UNIQUE NOT NULL,
    text text NOT NULL,
    email varchar(254) NULL,
    source varchar(16) NOT NULL,
    status varchar(16) NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE TABLE triage_score (
    complaint_id uuid PRIMARY KEY REFERENCES triage_complaint (id),
    model_name varchar(64) NOT NULL,
    model_version varchar(64) NOT NULL,
    arm varchar(32) NOT NULL,
    experiment_version int NOT NULL,
    compound float8 NOT NULL,
    neg float8 NOT NULL,
    neu float8 NOT NULL,
    pos float8 NOT NULL,
    label varchar(32) NOT NULL,
    category varchar(64) NULL,
    signals jsonb NOT NULL,
    explanation text NOT NULL,
    priority float8 NOT NULL,
    escalated bool NOT NULL,
    policy_version int NOT NULL,
    kafka_topic varchar(255) NOT NULL,
    kafka_partition int NOT NULL,
    kafka_offset bigint NOT NULL,
    enqueued_at timestamptz NOT NULL,
    scored_at timestamptz NOT NULL,
    scoring_ms float8 NULL
);
CREATE TABLE triage_shadow_score (
    id bigserial PRIMARY KEY,
    complaint_id uuid NOT NULL REFERENCES triage_complaint (id),
    model_name varchar(64) NOT NULL,
    model_version varchar(64) NOT NULL,
    compound float8 NOT NULL,
    neg float8 NOT NULL,
    neu float8 NOT NULL,
    pos float8 NOT NULL,
    label varchar(32) NOT NULL,
    category varchar(64) NULL,
    signals jsonb NOT NULL,
    explanation text NOT NULL,
    scored_at timestamptz NOT NULL,
    UNIQUE (complaint_id, model_name)
);
CREATE TABLE triage_dead_letter (
    id bigserial PRIMARY KEY,
    topic varchar(255) NOT NULL,
    "partition" int NOT NULL,
    "offset" bigint NOT NULL,
    raw_key bytea NULL,
    raw_value bytea NULL,
    reason varchar(64) NOT NULL,
    detail text NOT NULL,
    created_at timestamptz NOT NULL,
    UNIQUE (topic, "partition", "offset")
);
CREATE TABLE triage_escalation_policy (
    id bigserial PRIMARY KEY,
    version int UNIQUE NOT NULL,
    escalate_at float8 NOT NULL,
    negative_compound float8 NOT NULL,
    weight_sentiment float8 NOT NULL,
    weight_severity float8 NOT NULL,
    weight_category float8 NOT NULL,
    created_at timestamptz NOT NULL,
    created_by_id int NULL
);
CREATE TABLE triage_experiment (
    id bigserial PRIMARY KEY,
    version int UNIQUE NOT NULL,
    arms jsonb NOT NULL,
    shadow_model varchar(64) NULL,
    created_at timestamptz NOT NULL,
    created_by_id int NULL
);
CREATE TABLE triage_stream_batch (
    id bigserial PRIMARY KEY,
    batch_id bigint NOT NULL,
    rows int NOT NULL,
    dead_letters int NULL DEFAULT 0,
    duration_ms float8 NOT NULL,
    scoring_ms float8 NULL,
    started_at timestamptz NULL,
    finished_at timestamptz NOT NULL DEFAULT now()
);
