//! peerpath: career pathways for Advanced Peer Support Workers in hepatitis C care.
//!
//! Layers, each knowing only those below it: `cli` → `app` → `http` (the JSON API and the
//! pages) → domain services (`pathway`, `salary`, `training`, `competencies`, `workers`,
//! `supervisor_queue`, `reports`, `organisations`, and beside them the walled-garden
//! `recovery` and `identity`) → (`notifications`, `audit`, `idempotency`) → `access` (role,
//! caller, policy) → `db` → (`config`, `crypto`, `error`). docs/ARCHITECTURE.md maps the modules; docs/CONVENTIONS.md
//! says how each kind of change is made.

pub mod access;
pub mod app;
pub mod audit;
pub mod cli;
pub mod competencies;
pub mod config;
pub mod crypto;
pub mod db;
pub mod demo;
pub mod error;
pub mod explain;
pub mod http;
pub mod idempotency;
pub mod identity;
pub mod ids;
pub mod memory;
pub mod notifications;
pub mod organisations;
pub mod pagination;
pub mod pathway;
pub mod recovery;
pub mod reports;
pub mod salary;
pub mod scheduler;
pub mod state;
pub mod supervisor_queue;
pub mod telemetry;
pub mod training;
pub mod validation;
pub mod workers;
