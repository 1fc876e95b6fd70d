//! Training: each organisation's module catalogue, and the training records workers log
//! and their supervisors verify.

pub mod modules;
pub mod records;
