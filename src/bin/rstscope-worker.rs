//! The analysis worker's entry point (wasm32, built by Trunk as a Web Worker). Natively it
//! only says where it belongs.

#[cfg(target_arch = "wasm32")]
fn main() {
    rstscope::web::worker::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("rstscope-worker runs in the browser: build it with trunk (see README.md)");
}
