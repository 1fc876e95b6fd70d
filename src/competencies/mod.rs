//! Competencies: each organisation's framework (in the "able to ..." style), the
//! supervisors who assess each competency, sign-offs and observed practice.

pub mod framework;
pub mod observations;
pub mod signoffs;
