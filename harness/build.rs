//! Rebuilds the tests when suites or captures change, so rstest's `#[files]` picks up a new
//! case file without any code being edited.

fn main() {
    println!("cargo:rerun-if-changed=../suites");
    println!("cargo:rerun-if-changed=../captures");
}
