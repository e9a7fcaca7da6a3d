-- Jobs shared by several gateway replicas: the same logical tables as the embedded store, plus each job's input
-- (its recipients, in blocks) and its lease (which replica runs it, until when).

CREATE TABLE tim_job_inputs (
    id BIGSERIAL PRIMARY KEY,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Set once every block is written.
    bytes BIGINT,
    sha256 TEXT
);

CREATE TABLE tim_job_input_blocks (
    input_id BIGINT NOT NULL REFERENCES tim_job_inputs (id) ON DELETE CASCADE,
    block INTEGER NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (input_id, block)
);

CREATE TABLE tim_jobs (
    id BIGSERIAL PRIMARY KEY,
    -- The job's record (JSON, as the embedded store keeps it) and its state, for the claim's query.
    info BYTEA NOT NULL,
    state TEXT NOT NULL,
    input_id BIGINT NOT NULL REFERENCES tim_job_inputs (id),
    -- The replica running the job, the lease's number (raised by every claim) and when it ends.
    lease_owner TEXT,
    lease_epoch BIGINT NOT NULL DEFAULT 0,
    lease_until TIMESTAMPTZ
);

CREATE INDEX tim_jobs_running ON tim_jobs (id) WHERE state = 'running';

CREATE TABLE tim_job_chunks (
    job_id BIGINT NOT NULL REFERENCES tim_jobs (id) ON DELETE CASCADE,
    chunk BIGINT NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (job_id, chunk)
);

CREATE TABLE tim_job_in_flight (
    job_id BIGINT NOT NULL REFERENCES tim_jobs (id) ON DELETE CASCADE,
    chunk BIGINT NOT NULL,
    sent_ms BIGINT NOT NULL,
    PRIMARY KEY (job_id, chunk)
);

CREATE TABLE tim_job_entries (
    job_id BIGINT NOT NULL REFERENCES tim_jobs (id) ON DELETE CASCADE,
    line BIGINT NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (job_id, line)
);

CREATE TABLE tim_job_failures (
    job_id BIGINT NOT NULL REFERENCES tim_jobs (id) ON DELETE CASCADE,
    chunk BIGINT NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (job_id, chunk)
);

CREATE TABLE tim_job_settled (
    job_id BIGINT NOT NULL REFERENCES tim_jobs (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (job_id, seq)
);

CREATE TABLE tim_job_requeued (
    job_id BIGINT NOT NULL REFERENCES tim_jobs (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    round SMALLINT NOT NULL,
    PRIMARY KEY (job_id, user_id)
);
