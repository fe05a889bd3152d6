//! Imports: files users already keep, read as French spreadsheets save them (encodings, title
//! rows, header aliases, decimal commas, French dates), checked in one pass and recorded all or
//! nothing.

pub mod crf;
pub mod encoding;
pub mod etat;
pub mod headers;
pub mod problems;
pub mod programmation;
pub mod sheet;
pub mod tfpb;
