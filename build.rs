//! Compiles proto/ with a pure-Rust protobuf compiler (filled by issue [A]).
fn main() {}
