//! What several test files of the server share. Each file uses a part of it.
#![allow(dead_code)]

pub mod browser;
pub mod demo;
pub mod text;
