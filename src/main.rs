//! The terraform-provider-cph binary (filled by issue [A]).
fn main() {
    eprintln!("This binary is a plugin. These are not meant to be executed directly.");
    std::process::exit(1);
}
