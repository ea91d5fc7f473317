//! The kit's error type.

use std::io;
use std::time::Duration;

/// What can go wrong while the kit builds a network, starts a daemon or asks it
/// something. Messages name the command and carry its standard error, so a failing
/// test says why.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A program the kit needs is not installed.
    #[error(
        "`{tool}` is not installed: install the Debian package `{package}` \
         (`apt-get install {package}`, or run `scripts/test`, which installs every test prerequisite)"
    )]
    MissingTool {
        /// The program that was looked for.
        tool: String,
        /// The Debian package that provides it.
        package: String,
    },
    /// A program could not be started at all.
    #[error("could not start `{command}`")]
    Spawn {
        /// The command line.
        command: String,
        /// Why the operating system refused.
        #[source]
        source: io::Error,
    },
    /// A program ran and failed.
    #[error("`{command}` failed ({status}): {stderr}")]
    Command {
        /// The command line.
        command: String,
        /// Its exit status.
        status: String,
        /// What it wrote on standard error (trimmed).
        stderr: String,
    },
    /// A daemon the kit started exited while the kit waited for it.
    #[error("`{command}` exited ({status}); its log ends with:\n{log}")]
    Exited {
        /// The command line.
        command: String,
        /// Its exit status.
        status: String,
        /// The end of its log.
        log: String,
    },
    /// A file or directory operation failed.
    #[error("{what}")]
    Io {
        /// What the kit was doing.
        what: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A condition did not become true in time.
    #[error("timed out after {waited:?} waiting for {what}; {detail}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long the kit waited.
        waited: Duration,
        /// The last observed state, or a daemon's log tail.
        detail: String,
    },
    /// A tool printed something the kit could not understand.
    #[error("could not parse {what}: {detail}")]
    Parse {
        /// What was being parsed.
        what: String,
        /// Where and why it failed.
        detail: String,
    },
    /// The caller asked for something impossible (bad name, bad address, …).
    #[error("invalid argument: {0}")]
    Invalid(String),
}

impl Error {
    pub(crate) fn io(what: impl Into<String>, source: io::Error) -> Self {
        Error::Io {
            what: what.into(),
            source,
        }
    }
}
