//! Compiles `proto/` into Rust with protox (a pure-Rust protobuf compiler, so
//! no system `protoc` is needed) and tonic/prost code generation: the
//! `tfplugin5` Provider service and go-plugin's controller and stdio services,
//! servers for the binary and clients for the protocol tests.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protos = [
        "proto/tfplugin5.proto",
        "proto/grpc_controller.proto",
        "proto/grpc_stdio.proto",
    ];
    for p in protos {
        println!("cargo:rerun-if-changed={p}");
    }
    let fds = protox::compile(protos, ["proto"])?;
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_fds(fds)?;
    Ok(())
}
