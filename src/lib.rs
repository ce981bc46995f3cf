//! Provider Registry — the whitelist of third-party institutions admitted to schools'
//! after-school services (课后服务第三方机构备选库).
//!
//! Map of the crate (see the README's ARCHITECTURE section):
//! - shared core: [`config`], [`clock`], [`error`], [`http`], [`db`], [`app`], [`startup`],
//!   [`cli`], [`telemetry`], [`openapi`], [`ops`], [`machine`];
//! - cross-cutting services: [`auth`], [`audit`], [`jobs`], [`mail`], [`opendata`] (versions,
//!   signed snapshots and feeds of the published lists);
//! - reference rules: [`calendar`], [`catalogue`], [`credentials`];
//! - capabilities: [`accounts`], [`institutions`], [`rounds`], [`documents`], [`applications`],
//!   [`exits`], [`sanctions`];
//! - front ends over the capabilities: [`web`] (the public portal's pages);
//! - [`demo`] data for `serve --demo`.

pub mod accounts;
pub mod allocator;
pub mod app;
pub mod applications;
pub mod audit;
pub mod auth;
pub mod calendar;
pub mod catalogue;
pub mod cli;
pub mod clock;
pub mod config;
pub mod contracts;
pub mod credentials;
pub mod db;
pub mod demo;
pub mod documents;
pub mod error;
pub mod exits;
pub mod http;
pub mod institutions;
pub mod jobs;
pub mod machine;
pub mod mail;
pub mod notices;
pub mod notify;
pub mod objections;
pub mod openapi;
pub mod opendata;
pub mod ops;
pub mod pdf;
pub mod pool;
pub mod review;
pub mod rounds;
pub mod routes;
pub mod sanctions;
pub mod signing;
pub mod startup;
pub mod telemetry;
pub mod web;
