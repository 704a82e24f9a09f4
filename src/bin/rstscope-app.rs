//! The page's entry point (wasm32, built by Trunk). Natively it only says where it belongs.

#[cfg(target_arch = "wasm32")]
fn main() {
    rstscope::web::start_app();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("rstscope-app is the browser page: build it with trunk (see README.md)");
}
