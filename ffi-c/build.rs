// The shared library carries Spread 5's soname, so programs linked against
// Spread's libspread.so.3 load ours unchanged.
fn main() {
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libspread.so.3");
    println!("cargo:rerun-if-changed=build.rs");
}
