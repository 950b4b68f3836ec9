//! One module per command family.

pub mod decode;
pub mod entrust;
pub mod otp;
pub mod vault;
