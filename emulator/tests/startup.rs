//! The binary's startup contract: one `listening on` line on stdout, the
//! provider settings as one pasteable block on stderr, and `--version` the
//! workspace's version (the provider's) with the surface version.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

fn emulator() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cph-emulator"))
}

#[test]
fn version_is_the_workspace_version_and_the_surface_version() {
    let out = emulator().arg("--version").output().expect("run --version");
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!(
            "cph-emulator {} (surface version 1)",
            env!("CARGO_PKG_VERSION")
        )
    );
}

#[test]
fn startup_prints_one_stdout_line_and_the_settings_block_on_stderr() {
    let mut child = emulator()
        .args([
            "--listen",
            "127.0.0.1:0",
            "--project-id",
            "p1",
            "--region",
            "r-1",
        ])
        .args(["--access-key", "AK1", "--secret-key", "s k'1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the emulator");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    stdout.read_line(&mut line).expect("first line");
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line: {line:?}"))
        .to_string();
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut block = Vec::new();
    loop {
        let mut l = String::new();
        if stderr.read_line(&mut l).expect("stderr line") == 0 {
            break;
        }
        let end = l.starts_with("# end of provider settings");
        block.push(l.trim_end().to_string());
        if end {
            break;
        }
    }
    let _ = child.kill();
    let mut rest = String::new();
    let _ = stdout.read_to_string(&mut rest);
    let _ = child.wait();
    assert_eq!(rest, "", "stdout holds only the listening line");
    let exports: Vec<&str> = block
        .iter()
        .map(String::as_str)
        .filter(|l| !l.starts_with('#'))
        .collect();
    assert_eq!(
        exports,
        vec![
            format!("export HW_CPH_ENDPOINT={url}").as_str(),
            format!("export HW_BSS_ENDPOINT={url}").as_str(),
            format!("export HW_AUTH_URL={url}/v3").as_str(),
            "export HW_REGION_NAME=r-1",
            "export HW_PROJECT_ID=p1",
            "export HW_ACCESS_KEY=AK1",
            r"export HW_SECRET_KEY='s k'\''1'",
        ],
        "the block: {block:#?}"
    );
    assert!(
        block[0].starts_with("# cph-emulator ") && block[0].contains("provider settings"),
        "the block opens with what it is: {block:#?}"
    );
}
