//! ADB commands as `phones/commands` takes them: the five commands, the
//! rules of `content` (size, characters, the OBS paths install and push
//! need), and what a phone answers: installs add a package named after the
//! APK file, uninstall removes it, and a few shell commands (`getprop`,
//! `pm list packages`, `echo`) print what a phone would.

use std::collections::BTreeSet;

use crate::errors::{ApiError, code};
use crate::properties::Properties;

/// `content` at most, in bytes (install-multiple: [`MAX_MULTIPLE_BYTES`]).
pub const MAX_CONTENT_BYTES: usize = 1024;
pub const MAX_MULTIPLE_BYTES: usize = 8100;
/// APKs of one install-multiple call at most.
pub const MAX_APKS: usize = 50;
/// A job's `execute_msg` at most, in bytes.
pub const MAX_OUTPUT_BYTES: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Install,
    InstallMultiple,
    Push,
    Uninstall,
    Shell,
}

impl Command {
    pub fn parse(s: &str) -> Result<Command, ApiError> {
        Ok(match s {
            "install" => Command::Install,
            "install-multiple" => Command::InstallMultiple,
            "push" => Command::Push,
            "uninstall" => Command::Uninstall,
            "shell" => Command::Shell,
            _ => {
                return Err(ApiError::bad_request(
                    code::BAD_COMMAND,
                    format!(
                        "Parameter: command is invalid: {s:?} is not one of install, \
                         install-multiple, push, uninstall, shell"
                    ),
                ));
            }
        })
    }
}

fn bad_content(why: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(
        code::BAD_CONTENT,
        format!("Parameter: content is invalid: {why}"),
    )
}

/// Letters, digits, `_ . / : -` and spaces (the reference), and `? = & |`
/// (the SDK's description adds them).
fn allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_./:- ?=&|".contains(c)
}

fn apks(content: &str) -> Vec<&str> {
    content
        .split(' ')
        .filter(|t| t.starts_with("obs://") && t.ends_with(".apk"))
        .collect()
}

/// Check `content` for `command`.
pub fn check_content(command: Command, content: &str) -> Result<(), ApiError> {
    let max = if command == Command::InstallMultiple {
        MAX_MULTIPLE_BYTES
    } else {
        MAX_CONTENT_BYTES
    };
    if content.trim().is_empty() {
        return Err(bad_content("it is empty"));
    }
    if content.len() > max {
        return Err(bad_content(format!("it is over {max} bytes")));
    }
    if let Some(c) = content.chars().find(|c| !allowed(*c)) {
        return Err(bad_content(format!("{c:?} is not allowed")));
    }
    match command {
        Command::Install if apks(content).len() != 1 => {
            Err(bad_content("install takes one obs://bucket/path.apk"))
        }
        Command::InstallMultiple if apks(content).is_empty() || apks(content).len() > MAX_APKS => {
            Err(bad_content(format!(
                "install-multiple takes 1 to {MAX_APKS} obs://bucket/path.apk"
            )))
        }
        Command::Push
            if !content
                .split(' ')
                .any(|t| t.starts_with("obs://") && t.ends_with(".tar")) =>
        {
            Err(bad_content("push takes an obs://bucket/path.tar"))
        }
        _ => Ok(()),
    }
}

/// The package an install's first APK holds: its file name without `.apk`.
pub fn package_of(content: &str) -> Option<String> {
    let apk = apks(content).into_iter().next()?;
    let name = apk.rsplit('/').next()?.strip_suffix(".apk")?;
    (!name.is_empty()).then(|| name.to_string())
}

/// What a phone holds that commands read or change.
pub struct Device<'a> {
    pub properties: &'a Properties,
    pub packages: &'a mut BTreeSet<String>,
}

/// Run `command` on a phone; returns its output (at most
/// [`MAX_OUTPUT_BYTES`]).
pub fn run(command: Command, content: &str, device: Device<'_>) -> String {
    let out = match command {
        Command::Install | Command::InstallMultiple => match package_of(content) {
            Some(p) => {
                device.packages.insert(p);
                "Success".to_string()
            }
            None => "Failure [INSTALL_FAILED_INVALID_APK]".to_string(),
        },
        Command::Uninstall => {
            let package = content
                .split(' ')
                .rfind(|t| !t.is_empty() && !t.starts_with('-'));
            match package {
                Some(p) if device.packages.remove(p) => "Success".to_string(),
                _ => "Failure [DELETE_FAILED_INTERNAL_ERROR]".to_string(),
            }
        }
        Command::Push => "Success".to_string(),
        Command::Shell => shell(content, &device),
    };
    truncate(out)
}

fn shell(line: &str, device: &Device<'_>) -> String {
    let words: Vec<&str> = line.split_whitespace().collect();
    match words.as_slice() {
        ["echo", rest @ ..] => rest.join(" "),
        ["getprop"] => device
            .properties
            .iter()
            .map(|(k, v)| format!("[{k}]: [{v}]"))
            .collect::<Vec<_>>()
            .join("\n"),
        ["getprop", key, ..] => device.properties.get(*key).cloned().unwrap_or_default(),
        ["pm", "list", "packages", rest @ ..] => {
            let filter = rest.iter().find(|w| !w.starts_with('-')).copied();
            device
                .packages
                .iter()
                .filter(|p| filter.is_none_or(|f| p.contains(f)))
                .map(|p| format!("package:{p}"))
                .collect::<Vec<_>>()
                .join("\n")
        }
        [] => String::new(),
        [program, ..] => format!("/system/bin/sh: {program}: inaccessible or not found"),
    }
}

fn truncate(mut s: String) -> String {
    if s.len() > MAX_OUTPUT_BYTES {
        let mut end = MAX_OUTPUT_BYTES;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on(
        command: Command,
        content: &str,
        props: &Properties,
        pk: &mut BTreeSet<String>,
    ) -> String {
        run(
            command,
            content,
            Device {
                properties: props,
                packages: pk,
            },
        )
    }

    #[test]
    fn content_rules() {
        let code_of = |c, s: &str| check_content(c, s).err().map(|e| e.code);
        assert_eq!(code_of(Command::Shell, "getprop ro.x"), None);
        assert_eq!(code_of(Command::Shell, "pm list packages | grep a"), None);
        for bad in [
            "",
            "  ",
            "echo a;b",
            "echo >x",
            "echo 'a'",
            "echo $HOME",
            "ls *",
        ] {
            assert_eq!(
                code_of(Command::Shell, bad),
                Some(code::BAD_CONTENT.to_string()),
                "{bad}"
            );
        }
        assert!(code_of(Command::Shell, &"a".repeat(1025)).is_some());
        assert!(code_of(Command::Install, "-t -r obs://b/app.apk").is_none());
        assert!(code_of(Command::Install, "-t -r obs://b/app.zip").is_some());
        assert!(code_of(Command::Push, "obs://b/data.tar").is_none());
        assert!(code_of(Command::Push, "obs://b/data.zip").is_some());
        let many = vec!["obs://b/a.apk"; 51].join(" ");
        assert!(code_of(Command::InstallMultiple, &many).is_some());
        assert_eq!(
            Command::parse("reboot").err().map(|e| e.code),
            Some(code::BAD_COMMAND.to_string())
        );
    }

    #[test]
    fn phone_answers() {
        let mut props = Properties::new();
        props.insert("persist.sys.locale".into(), "en-US".into());
        let mut pk = BTreeSet::new();
        assert_eq!(
            on(
                Command::Install,
                "-r obs://b/dir/com.example.app.apk",
                &props,
                &mut pk
            ),
            "Success"
        );
        assert_eq!(
            on(Command::Shell, "pm list packages", &props, &mut pk),
            "package:com.example.app"
        );
        assert_eq!(
            on(
                Command::Shell,
                "getprop persist.sys.locale",
                &props,
                &mut pk
            ),
            "en-US"
        );
        assert_eq!(on(Command::Shell, "getprop nope", &props, &mut pk), "");
        assert_eq!(
            on(Command::Shell, "echo hello  world", &props, &mut pk),
            "hello world"
        );
        assert_eq!(
            on(Command::Uninstall, "com.example.app", &props, &mut pk),
            "Success"
        );
        assert_eq!(on(Command::Shell, "pm list packages", &props, &mut pk), "");
        assert!(on(Command::Uninstall, "com.example.app", &props, &mut pk).starts_with("Failure"));
        assert!(
            on(
                Command::Shell,
                &format!("echo {}", "x".repeat(2000)),
                &props,
                &mut pk
            )
            .len()
                <= MAX_OUTPUT_BYTES
        );
    }
}
