//! One integration-test binary: every test drives the real app over HTTP, on SQLite and on
//! PostgreSQL.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

mod contract;
mod helpers;

mod audit;
mod auth;
mod backups;
mod browser;
mod competencies;
mod conventions;
mod demo;
mod emails;
mod errors;
mod mfa;
mod notifications;
mod operations;
mod pages;
mod pathway;
mod pay;
mod recovery;
mod schema;
mod smtp;
mod tenancy;
mod tokens;
mod training;
mod work_emails;
