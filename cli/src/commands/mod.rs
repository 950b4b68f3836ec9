//! One module per command family.

pub mod agent;
pub mod clipboard;
pub mod decode;
pub mod demo;
pub mod demo_privacyidea;
pub mod entrust;
pub mod link;
pub mod online;
pub mod otp;
pub mod scan;
pub mod transfer;
pub mod vault;
pub mod watch;
