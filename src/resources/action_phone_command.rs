//! Action `cph_phone_command`: runs one ADB command (`shell`, `install`,
//! `install-multiple`, `uninstall`, `push`) on phones, named or every phone
//! of named servers, through the fleet engine: invocations with the same
//! command and content share calls of 100 phones, each phone's output
//! (`execute_msg`) is shown as it comes, and `content` is checked at plan
//! against the API's rules (size, characters, the OBS file each command
//! takes).
//!
//! Characters: the API reference allows letters, digits, `_ . / : -` and
//! spaces; the SDK (3.1.219, generated from the service's API definition)
//! also allows `? = & |`. Those four are accepted here: they are what
//! pipes (`dumpsys battery | grep level`) and URLs with a query need, and
//! should a region refuse them the API answers CPS.0118 before running
//! anything, naming the phones. Size: the reference's 1,024 bytes (8,100
//! for `install-multiple`), not the SDK's 2,048, as the emulator enforces.

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;

use super::action_batch::{BatchAction, ServerPhones, targets};
use super::common::cph_id;
use crate::cph::models::{
    AdbCommand, BatchJobsResponse, CommandRequest, JOB_STATUS_FAILED, JOB_STATUS_SUCCEEDED, Job,
    MAX_IDS_PER_COMMAND_CALL,
};
use crate::cph::{self, Client};
use crate::fleet::operations::{BatchCall, Failure, Target};
use tf_framework::*;

/// `content` at most, in bytes (`install-multiple`: [`MAX_MULTIPLE_BYTES`]).
const MAX_CONTENT_BYTES: usize = 1024;
const MAX_MULTIPLE_BYTES: usize = 8100;
/// APKs one `install-multiple` takes at most.
const MAX_APKS: usize = 50;
/// What `content` may hold besides letters and digits.
const PUNCTUATION: &str = "_./:- ?=&|";

tf_framework::model! {
    /// The configuration of `action.cph_phone_command`.
    pub struct PhoneCommandModel {
        command: String = required("The ADB command.")
            .validate(one_of(&[
                ("shell", "a command line, without `adb shell`"),
                ("install", "one APK from OBS"),
                ("install-multiple", "up to 50 APKs of one split app from OBS"),
                ("uninstall", "a package name"),
                ("push", "an OBS `.tar` unpacked at `/`"),
            ])),
        content: String = required("What the command takes: the shell command line, `-r obs://bucket/app.apk`, a package name, `obs://bucket/files.tar`. At most 1,024 bytes (8,100 for `install-multiple`) of letters, digits, spaces and `_ . / : - ? = & |`; checked at plan."),
        phone_ids: BTreeSet<String> = optional("Ids of the cloud phones to run the command on.")
            .validate(size_at_least(1))
            .validate(each(cph_id())),
        server_ids: BTreeSet<String> = optional("Ids of cloud phone servers: the command runs on every phone of each.")
            .validate(size_at_least(1))
            .validate(each(cph_id())),
    }
    rules {
        exactly_one_of(&["phone_ids", "server_ids"]),
    }
}

pub struct PhoneCommand;

impl BatchAction for PhoneCommand {
    type Model = PhoneCommandModel;
    const TYPE_NAME: &'static str = "cph_phone_command";
    const DESCRIPTION: &'static str = "Runs an ADB command (shell, install, install-multiple, uninstall, push) on cloud phones, 100 to a call, and shows each phone's output.";
    const NOUN: &'static str = "phones";
    const DONE: &'static str = "done";
    const ATTRIBUTE: &'static str = "phone_ids";
    const SHOWS_JOB_MESSAGES: bool = true;

    fn validate(&self, config: &PhoneCommandModel, diags: &mut Diagnostics) {
        let command = config.command.as_str().and_then(AdbCommand::parse);
        let (Some(command), Some(content)) = (command, config.content.as_str()) else {
            return;
        };
        if let Some(problem) = content_problem(command, content) {
            diags.push(
                Diagnostic::error("Invalid content", problem).at(AttributePath::root("content")),
            );
        }
    }

    fn call(&self, config: &PhoneCommandModel) -> (Arc<dyn BatchCall>, Vec<Target>) {
        let ids = config.phone_ids.known().cloned().unwrap_or_default();
        let call = CommandCall {
            command: config.command.as_str().and_then(AdbCommand::parse),
            content: config.content.as_str().unwrap_or_default().to_string(),
        };
        (Arc::new(call), targets(&ids, None, None))
    }

    fn servers(&self, config: &PhoneCommandModel) -> Option<ServerPhones> {
        let server_ids = config.server_ids.known().filter(|s| !s.is_empty())?;
        Some(ServerPhones {
            attribute: "server_ids",
            server_ids: server_ids.clone(),
        })
    }
}

/// Why `content` will not do for `command`, if it will not.
pub fn content_problem(command: AdbCommand, content: &str) -> Option<String> {
    let max = if command == AdbCommand::InstallMultiple {
        MAX_MULTIPLE_BYTES
    } else {
        MAX_CONTENT_BYTES
    };
    if content.trim().is_empty() {
        return Some("`content` is empty.".into());
    }
    if content.len() > max {
        return Some(format!(
            "`content` of {} may be at most {max} bytes; it has {}.",
            command.as_str(),
            content.len()
        ));
    }
    if let Some(c) = content
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || PUNCTUATION.contains(*c)))
    {
        return Some(format!(
            "`content` may hold only letters, digits, spaces and `_ . / : - ? = & |`; {c:?} is not allowed (the API refuses it with CPS.0118)."
        ));
    }
    let files = |suffix: &str| {
        content
            .split(' ')
            .filter(|t| t.starts_with("obs://") && t.ends_with(suffix))
            .count()
    };
    match command {
        AdbCommand::Install if files(".apk") != 1 => {
            Some("`install` takes one APK from OBS, such as `-r obs://bucket/app.apk`.".into())
        }
        AdbCommand::InstallMultiple if !(1..=MAX_APKS).contains(&files(".apk")) => Some(format!(
            "`install-multiple` takes 1 to {MAX_APKS} APKs of one app from OBS, such as `obs://bucket/base.apk obs://bucket/split.apk`."
        )),
        AdbCommand::Push if files(".tar") == 0 => {
            Some("`push` takes a `.tar` from OBS, such as `obs://bucket/files.tar`.".into())
        }
        _ => None,
    }
}

/// One command (and content) sent to phones.
struct CommandCall {
    /// None only for a command the plan-time check refused.
    command: Option<AdbCommand>,
    content: String,
}

#[async_trait]
impl BatchCall for CommandCall {
    fn merge_key(&self) -> String {
        format!("command {:?} {}", self.command, self.content)
    }

    fn max_ids(&self) -> usize {
        MAX_IDS_PER_COMMAND_CALL
    }

    async fn send(&self, client: &Client, targets: &[Target]) -> cph::Result<BatchJobsResponse> {
        let Some(command) = self.command else {
            return Err(cph::Error::Config("no valid ADB command".into()));
        };
        let request = CommandRequest {
            command,
            content: self.content.clone(),
            phone_ids: targets.iter().map(|t| t.id.clone()).collect(),
            server_ids: Vec::new(),
        };
        client.run_phone_command(&request).await
    }

    /// A job that ended; an install or uninstall whose output is ADB's
    /// `Failure [CODE]` failed, with that code.
    fn judge(&self, id: &str, job: &Job) -> Option<Result<(), Failure>> {
        let failed = |code: Option<String>, message: String| {
            Err(Failure {
                id: id.to_string(),
                code,
                message,
            })
        };
        let output = job.execute_msg.as_deref().unwrap_or_default().trim();
        match job.status {
            JOB_STATUS_FAILED => Some(failed(
                job.error_code.clone(),
                job.error_msg
                    .clone()
                    .unwrap_or_else(|| "the job failed".into()),
            )),
            JOB_STATUS_SUCCEEDED if self.installs() && output.starts_with("Failure") => {
                Some(failed(adb_failure_code(output), output.to_string()))
            }
            JOB_STATUS_SUCCEEDED => Some(Ok(())),
            _ => None,
        }
    }
}

impl CommandCall {
    /// Whether the command installs or uninstalls (ADB's package manager
    /// answers `Success` or `Failure [CODE]`).
    fn installs(&self) -> bool {
        matches!(
            self.command,
            Some(AdbCommand::Install | AdbCommand::InstallMultiple | AdbCommand::Uninstall)
        )
    }
}

/// `INSTALL_FAILED_X` out of `Failure [INSTALL_FAILED_X: why]`.
fn adb_failure_code(output: &str) -> Option<String> {
    let inside = output.split_once('[')?.1.split(']').next()?;
    let code = inside.split([':', ' ']).next()?.trim();
    (!code.is_empty()).then(|| code.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(command: AdbCommand, content: &str) -> String {
        content_problem(command, content).unwrap_or_default()
    }

    #[test]
    fn content_is_checked_like_the_api() {
        use AdbCommand::*;
        assert_eq!(content_problem(Shell, "getprop ro.product.model"), None);
        assert_eq!(content_problem(Shell, "dumpsys battery | grep level"), None);
        assert_eq!(content_problem(Install, "-t -r obs://b/app.apk"), None);
        assert_eq!(content_problem(Uninstall, "com.example.app"), None);
        assert!(problem(Shell, "echo a; reboot").contains("';' is not allowed"));
        assert!(problem(Shell, "echo $HOME").contains("'$'"));
        assert!(problem(Shell, "  ").contains("empty"));
        assert!(problem(Shell, &"a".repeat(1025)).contains("at most 1024 bytes"));
        assert!(problem(Install, "obs://b/app.zip").contains("one APK"));
        assert!(problem(Install, "obs://b/a.apk obs://b/b.apk").contains("one APK"));
        assert!(problem(Push, "obs://b/files.zip").contains(".tar"));
        let apks = |n: usize| {
            (0..n)
                .map(|i| format!("obs://bucket/split{i}.apk"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert_eq!(content_problem(InstallMultiple, &apks(50)), None);
        assert!(apks(50).len() > MAX_CONTENT_BYTES);
        assert!(problem(InstallMultiple, &apks(51)).contains("1 to 50 APKs"));
    }

    #[test]
    fn same_command_and_content_merge_and_others_do_not() {
        let call = |c: AdbCommand, content: &str| CommandCall {
            command: Some(c),
            content: content.into(),
        };
        let key = |c: AdbCommand, content: &str| call(c, content).merge_key();
        assert_eq!(
            key(AdbCommand::Shell, "echo a"),
            key(AdbCommand::Shell, "echo a")
        );
        assert_ne!(
            key(AdbCommand::Shell, "echo a"),
            key(AdbCommand::Shell, "echo b")
        );
        assert_ne!(
            key(AdbCommand::Uninstall, "com.a"),
            key(AdbCommand::Shell, "com.a")
        );
        assert_eq!(call(AdbCommand::Shell, "x").max_ids(), 100);
    }

    #[test]
    fn an_install_answering_failure_failed_with_its_code() {
        let install = CommandCall {
            command: Some(AdbCommand::Install),
            content: "obs://b/a.apk".into(),
        };
        let job = |status, msg: &str| Job {
            status,
            execute_msg: Some(msg.into()),
            ..Default::default()
        };
        let verdict = install.judge(
            "p",
            &job(
                JOB_STATUS_SUCCEEDED,
                "Failure [INSTALL_FAILED_ALREADY_EXISTS: x]",
            ),
        );
        assert!(
            matches!(&verdict, Some(Err(f)) if f.code.as_deref() == Some("INSTALL_FAILED_ALREADY_EXISTS")),
            "{verdict:?}"
        );
        assert_eq!(
            install.judge("p", &job(JOB_STATUS_SUCCEEDED, "Success")),
            Some(Ok(()))
        );
        assert_eq!(install.judge("p", &job(1, "")), None);
        let shell = CommandCall {
            command: Some(AdbCommand::Shell),
            content: "echo Failure".into(),
        };
        assert_eq!(
            shell.judge("p", &job(JOB_STATUS_SUCCEEDED, "Failure")),
            Some(Ok(()))
        );
        let failed = shell.judge(
            "p",
            &Job {
                status: JOB_STATUS_FAILED,
                error_code: Some("CPS.0020".into()),
                ..Default::default()
            },
        );
        assert!(matches!(failed, Some(Err(f)) if f.code.as_deref() == Some("CPS.0020")));
    }
}
