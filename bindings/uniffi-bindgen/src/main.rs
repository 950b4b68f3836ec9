//! `cargo run -p uniffi-bindgen -- generate --library <libsofttoken_ffi.so> --language kotlin|swift …`
fn main() {
    uniffi::uniffi_bindgen_main()
}
