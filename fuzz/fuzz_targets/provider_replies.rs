//! Every provider reply the app parses (docs/protocol.md §5), with any status and body, through
//! the app's own client: never a panic; a success body that is not the protocol's is a typed
//! `NotProtocol` error, a refusal keeps its word, and a pending list never yields more than the
//! client accepts or a transaction of another serial.
#![no_main]
use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use softtoken_core::transaction::{Answer, Response};
use softtoken_net::client::ProviderClient;
use softtoken_net::{Error, HttpRequest, HttpResponse, TransactionTransport};

#[derive(Arbitrary, Debug)]
struct Input {
    call: u8,
    status: u16,
    body: String,
}

/// A provider that answers every request with the fuzzed reply.
struct Canned(u16, String);

impl TransactionTransport for Canned {
    fn send(&self, _request: &HttpRequest) -> Result<HttpResponse, String> {
        Ok(HttpResponse { status: self.0, body: self.1.clone() })
    }
}

fn typed<T>(result: &Result<T, Error>) {
    if let Err(e) = result {
        assert!(matches!(e, Error::NotProtocol(_) | Error::Refused { .. }), "{e:?}");
    }
}

fuzz_target!(|input: Input| {
    let transport = Canned(input.status, input.body);
    let client = ProviderClient::new("http://127.0.0.1:8443", &transport);
    let serial = "123456789";
    match input.call % 6 {
        0 => typed(&client.time().result),
        1 => typed(&client.activation("t0k3n").result),
        2 => typed(&client.complete_activation("t0k3n", "1234567890", None).result),
        3 => {
            let reply = client.pending(serial, 1_700_000_000, "mac").result;
            typed(&reply);
            if let Ok(list) = reply {
                assert!(list.len() <= 100);
                for tx in list.into_iter().flatten() {
                    assert_eq!(tx.serial, serial);
                }
            }
        }
        4 => typed(&client.answer("abc", &Answer { response: Response::Confirm, answered_at: 1_700_000_000, number: 0 }, "mac").result),
        _ => typed(&client.unregister(serial, 1_700_000_000, "mac").result),
    }
});
