DELETE FROM job_runs WHERE outcome = 'lease_lost';
ALTER TABLE job_runs DROP CONSTRAINT job_runs_outcome_check;
ALTER TABLE job_runs ADD CONSTRAINT job_runs_outcome_check
    CHECK (outcome IN ('done', 'retry', 'dead'));
DROP TABLE jwt_keys;
DROP TABLE service_clock;
