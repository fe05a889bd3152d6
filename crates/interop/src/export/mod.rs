//! Exports of the ledger to other systems' formats.

pub mod datasubvention;
pub mod programmation;
pub mod publication;
pub mod scdl;
pub mod scdl_source;
pub mod xlsx;
