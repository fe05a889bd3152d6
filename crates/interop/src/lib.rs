//! Files in and out of the ledger: the spreadsheets users already keep (programmation, TFPB,
//! the State's extracts), checked in one pass and recorded all or nothing through
//! [`engagements_app::Ledger`], and the exports other systems read (SCDL).

pub mod export;
pub mod import;
