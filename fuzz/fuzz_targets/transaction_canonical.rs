//! The canonical encoding of a transaction and of an answer (`docs/protocol.md` §2, §3), the bytes
//! every MAC covers: decoded again by an independent reader written from the document, it gives
//! back exactly the transaction and answer encoded (so two different ones never share a MAC input).
#![no_main]
use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use softtoken_core::transaction::{Answer, Response, Transaction};

#[derive(Arbitrary, Debug)]
struct Input {
    id: String,
    serial: String,
    summary: String,
    details: Vec<(String, String)>,
    created_at: u64,
    expires_at: u64,
    number_match: bool,
    response: u8,
    answered_at: u64,
    number: u8,
}

/// Reads the document's layout: a label, length-prefixed (u32 big-endian) strings, u64 times.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> &'a [u8] {
        assert!(self.0.len() >= n, "the encoding ends early");
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        head
    }
    fn u32(&mut self) -> u32 {
        u32::from_be_bytes(self.take(4).try_into().unwrap())
    }
    fn u64(&mut self) -> u64 {
        u64::from_be_bytes(self.take(8).try_into().unwrap())
    }
    fn string(&mut self) -> String {
        let n = self.u32() as usize;
        String::from_utf8(self.take(n).to_vec()).expect("UTF-8 as encoded")
    }
}

fuzz_target!(|i: Input| {
    let tx = Transaction {
        id: i.id,
        serial: i.serial,
        summary: i.summary,
        details: i.details,
        created_at: i.created_at,
        expires_at: i.expires_at,
        number_match: i.number_match,
    };
    let response = [Response::Confirm, Response::Cancel, Response::Suspicious][usize::from(i.response % 3)];
    let answer = Answer { response, answered_at: i.answered_at, number: i.number };
    let bytes = tx.answer_bytes(&answer);
    assert!(bytes.starts_with(&tx.canonical()));
    let mut r = Reader(&bytes);
    assert_eq!(r.take(15), b"softtoken-tx-v1");
    assert_eq!(r.string(), tx.id);
    assert_eq!(r.string(), tx.serial);
    assert_eq!(r.string(), tx.summary);
    let n = r.u32() as usize;
    assert_eq!(n, tx.details.len());
    for (k, v) in &tx.details {
        assert_eq!(&r.string(), k);
        assert_eq!(&r.string(), v);
    }
    assert_eq!(r.u64(), tx.created_at);
    assert_eq!(r.u64(), tx.expires_at);
    assert_eq!(r.take(1)[0], u8::from(tx.number_match));
    assert_eq!(r.string(), response.as_str());
    assert_eq!(r.u64(), answer.answered_at);
    assert_eq!(r.take(1)[0], answer.number);
    assert!(r.0.is_empty(), "nothing after the answer");
});
