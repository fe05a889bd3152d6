//! Imports: files users already keep, checked in one pass and recorded all or nothing.

pub mod etat;
pub mod programmation;
pub mod sheet;
pub mod tfpb;
