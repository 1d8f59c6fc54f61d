//! `make docs`: writes `docs/` from `templates/` and the provider's live
//! schema. With `--check`, writes nothing and fails when `docs/` differs.
//! Not part of a release (`scripts/release.sh` packages
//! terraform-provider-cph and cph-emulator only).

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut check = false;
    let mut root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--check" => check = true,
            "--root" => match args.next() {
                Some(r) => root = PathBuf::from(r),
                None => return usage(),
            },
            _ => return usage(),
        }
    }
    let pages = match terraform_provider_cph::docs(&root) {
        Ok(p) => p,
        Err(e) => {
            eprint!("gen-docs: cannot generate docs/:\n{e}");
            return ExitCode::FAILURE;
        }
    };
    let docs = root.join("docs");
    if check {
        let diffs = tf_framework::docs::differences(&docs, &pages);
        if diffs.is_empty() {
            println!("docs/ is up to date ({} pages)", pages.len());
            return ExitCode::SUCCESS;
        }
        eprintln!("docs/ is not what `make docs` writes:");
        for d in diffs {
            eprintln!("  - {d}");
        }
        return ExitCode::FAILURE;
    }
    match tf_framework::docs::write(&docs, &pages) {
        Ok(changed) => {
            for p in &changed {
                println!("wrote {}", p.strip_prefix(&root).unwrap_or(p).display());
            }
            println!("docs/: {} pages, {} changed", pages.len(), changed.len());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gen-docs: cannot write docs/: {e}");
            ExitCode::FAILURE
        }
    }
}

fn usage() -> ExitCode {
    eprintln!("usage: gen-docs [--check] [--root DIR]");
    ExitCode::from(2)
}
