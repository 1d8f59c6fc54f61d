//! cph-emulator: a local emulator of the Huawei Cloud CPH API (filled by issue [B]).
fn main() {}
