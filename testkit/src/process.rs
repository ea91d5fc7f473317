//! Running commands and owning daemon processes.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process};

use crate::{Error, Result};

/// The command line of `cmd`, for messages.
pub(crate) fn describe(cmd: &Command) -> String {
    let mut line = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        line.push(' ');
        line.push_str(&arg.to_string_lossy());
    }
    line
}

/// Runs `cmd` to completion; its standard output on success, [`Error::Command`] with
/// its standard error otherwise.
pub(crate) fn run(cmd: &mut Command) -> Result<String> {
    let output = output(cmd)?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(Error::Command {
            command: describe(cmd),
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        })
    }
}

/// Runs `cmd` to completion and returns its output whatever the exit status.
pub(crate) fn output(cmd: &mut Command) -> Result<Output> {
    cmd.stdin(Stdio::null())
        .output()
        .map_err(|source| Error::Spawn {
            command: describe(cmd),
            source,
        })
}

/// A process the kit started, usually inside a namespace. It is ended by PID when
/// dropped: `SIGTERM`, a grace period, then `SIGKILL`.
#[derive(Debug)]
pub struct NsProcess {
    child: Child,
    command: String,
    log: Option<PathBuf>,
    grace: Duration,
}

impl NsProcess {
    /// Starts `cmd`. When `log` is given, standard output and standard error go to that
    /// file (unless `cmd` already set them), and [`NsProcess::log_tail`] reads it back.
    pub fn spawn(mut cmd: Command, log: Option<&Path>) -> Result<NsProcess> {
        let command = describe(&cmd);
        cmd.stdin(Stdio::null());
        if let Some(log) = log {
            let file = File::create(log)
                .map_err(|e| Error::io(format!("creating log {}", log.display()), e))?;
            let err = file
                .try_clone()
                .map_err(|e| Error::io("cloning a log handle", e))?;
            cmd.stdout(file).stderr(err);
        }
        let child = cmd.spawn().map_err(|source| Error::Spawn {
            command: command.clone(),
            source,
        })?;
        Ok(NsProcess {
            child,
            command,
            log: log.map(Path::to_path_buf),
            grace: Duration::from_secs(3),
        })
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The command line it was started with.
    pub fn command(&self) -> &str {
        &self.command
    }

    /// The child handle, e.g. to take a piped standard stream.
    pub(crate) fn child_mut(&mut self) -> &mut Child {
        &mut self.child
    }

    /// Whether the process is still running (its exit status otherwise).
    pub fn try_status(&mut self) -> Result<Option<ExitStatus>> {
        self.child
            .try_wait()
            .map_err(|e| Error::io(format!("waiting for `{}`", self.command), e))
    }

    /// [`Error::Exited`] with the end of the log if the process has exited.
    pub fn ensure_running(&mut self) -> Result<()> {
        match self.try_status()? {
            None => Ok(()),
            Some(status) => Err(Error::Exited {
                command: self.command.clone(),
                status: status.to_string(),
                log: self.log_tail(2000),
            }),
        }
    }

    /// The last `max` bytes of the process's log, for error messages.
    pub fn log_tail(&self, max: usize) -> String {
        self.log
            .as_deref()
            .map(|log| tail(log, max))
            .unwrap_or_default()
    }

    /// The file its output goes to, when it has one.
    pub fn log_file(&self) -> Option<&Path> {
        self.log.as_deref()
    }

    /// Sends `signal` to the process.
    pub fn signal(&self, signal: Signal) -> Result<()> {
        let pid = Pid::from_raw(self.pid() as i32)
            .ok_or_else(|| Error::Invalid(format!("pid {} of `{}`", self.pid(), self.command)))?;
        kill_process(pid, signal)
            .map_err(|e| Error::io(format!("signalling `{}`", self.command), e.into()))
    }

    /// Ends the process: `SIGTERM`, up to the grace period (3 s), then `SIGKILL`.
    /// Returns its exit status.
    pub fn stop(&mut self) -> Result<ExitStatus> {
        if let Some(status) = self.try_status()? {
            return Ok(status);
        }
        // The process may exit between the check and the signal; that is fine.
        let _ = self.signal(Signal::TERM);
        let deadline = Instant::now() + self.grace;
        while Instant::now() < deadline {
            if let Some(status) = self.try_status()? {
                return Ok(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        self.child
            .wait()
            .map_err(|e| Error::io(format!("reaping `{}`", self.command), e))
    }
}

impl Drop for NsProcess {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

/// The last `max` bytes of file `path` (empty when unreadable).
pub(crate) fn tail(path: &Path, max: usize) -> String {
    let text = std::fs::read(path).unwrap_or_default();
    let start = text.len().saturating_sub(max);
    String::from_utf8_lossy(&text[start..]).into_owned()
}

/// Polls `check` every 50 ms until it returns `Some`, or times out with the last
/// observation and `detail()` in the error. Errors of `check` count as "not yet",
/// except [`Error::Exited`], which ends the wait at once.
pub(crate) fn wait_until<T>(
    what: &str,
    timeout: Duration,
    mut check: impl FnMut() -> Result<Option<T>>,
    detail: impl FnOnce() -> String,
) -> Result<T> {
    let start = Instant::now();
    let mut last: String;
    loop {
        match check() {
            Ok(Some(value)) => return Ok(value),
            Ok(None) => last = "not yet".to_owned(),
            Err(e @ Error::Exited { .. }) => return Err(e),
            Err(e) => last = e.to_string(),
        }
        if start.elapsed() >= timeout {
            return Err(Error::Timeout {
                what: what.to_owned(),
                waited: start.elapsed(),
                detail: format!("last check: {last}; {}", detail()),
            });
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
