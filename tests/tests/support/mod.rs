//! What the e2e tests share.

pub mod browser;
pub mod scene;
