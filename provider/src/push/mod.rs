//! Wake-ups: how a phone learns that a transaction waits, without polling. Web Push (RFC 8030,
//! 8291, 8292) is built; a wake-up carries no transaction data, only a nudge to fetch.

pub mod webpush;
