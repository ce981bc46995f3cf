//! The integration tests: one binary, so the service is linked once, with one module per
//! capability. Each test starts the real application on a fresh database (a temporary SQLite
//! file, or a new PostgreSQL database when `TEST_DATABASE_URL` is set) and talks HTTP to it;
//! `common` is the harness.

mod common;

mod applications;
mod audit;
mod contracts;
mod demo;
mod documents;
mod exits;
mod foundation;
mod hardening;
mod instances;
mod institutions;
mod jobs;
mod layers;
mod mail;
mod notices;
mod openapi;
mod opendata;
mod pdf_extraction;
mod pool;
mod portal;
mod production;
mod readiness;
mod reference;
mod review;
mod sanctions;
mod workspace;
mod workspace_admin;
mod workspace_reviewer;
mod workspace_school;
