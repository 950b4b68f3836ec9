//! Benchmark driver mirroring `oathtool --totp=ALG -w N HEX -N @T`: prints the codes of N+1
//! consecutive time steps, one per line. Used by bench/run.sh; not part of the product.

use softtoken_core::otp::{Algorithm, Totp};
use softtoken_core::secret::hex_decode;
use softtoken_core::Secret;
use std::io::{BufWriter, Write};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 5 {
        eprintln!("usage: totp_window ALGORITHM HEX_SECRET WINDOW UNIXTIME");
        std::process::exit(2);
    }
    let run = || -> Result<(), String> {
        let alg = Algorithm::parse(&args[1]).map_err(|e| e.to_string())?;
        let secret = Secret::new(hex_decode(&args[2]).ok_or("bad hex")?);
        let window: u64 = args[3].parse().map_err(|_| "bad window")?;
        let at: u64 = args[4].parse().map_err(|_| "bad time")?;
        let totp = Totp::new(secret, alg, 6, 30).map_err(|e| e.to_string())?;
        let mut out = BufWriter::new(std::io::stdout().lock());
        let mut line = *b"000000\n";
        for mut v in totp.values_from(at, window + 1) {
            for slot in line[..6].iter_mut().rev() {
                *slot = b'0' + (v % 10) as u8;
                v /= 10;
            }
            out.write_all(&line).map_err(|e| e.to_string())?;
        }
        out.flush().map_err(|e| e.to_string())
    };
    if let Err(e) = run() {
        eprintln!("totp_window: {e}");
        std::process::exit(1);
    }
}
