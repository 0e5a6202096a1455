//! Stage processes die with the head: a `kdpipe run` killed with SIGKILL
//! (or an OOM kill) runs no cleanup, so the kernel has to end its children.
//!
//! Linux `PR_SET_PDEATHSIG` sends the child SIGKILL when the *thread* that
//! forked it exits. The local executor forks from the scheduling loop's
//! thread (the head's main thread), which lives until the run ends. The
//! setting survives `exec` of a non-setuid binary, so it also covers
//! `kdpipe-stage`, which `kdpipe exec-stage` execs for ML stages.

use std::os::unix::process::CommandExt;
use std::process::Command;

/// Makes the child started by `cmd` get SIGKILL when this thread (the one
/// that calls `spawn`) exits. If the head died between `fork` and
/// `prctl`, the child sees a different parent and fails to start.
#[allow(unsafe_code)]
pub(crate) fn die_with_parent(cmd: &mut Command) {
    let parent = std::process::id();
    // SAFETY: the closure runs in the forked child before `exec`. It only
    // calls `prctl` and `getppid`, which are async-signal-safe, and builds
    // an `io::Error` from an errno, which does not allocate; it touches no
    // lock or state shared with the parent's other threads.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGKILL as libc::c_ulong,
                0,
                0,
                0,
            ) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            // The parent may have died before prctl took effect; the child
            // was then reparented and no signal will come.
            if u32::try_from(libc::getppid()).ok() != Some(parent) {
                return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        });
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::os::unix::process::ExitStatusExt;
    use std::time::{Duration, Instant};

    use super::*;

    #[test]
    fn child_is_killed_when_the_forking_thread_exits() {
        let mut child = std::thread::spawn(|| {
            let mut cmd = Command::new("sleep");
            cmd.arg("30");
            die_with_parent(&mut cmd);
            // `spawn` returns after the exec, so the death signal is set.
            let mut child = cmd.spawn().unwrap();
            assert!(child.try_wait().unwrap().is_none());
            child
            // The forking thread ends here, the child still running.
        })
        .join()
        .unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the child outlived the thread that forked it");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        assert_eq!(status.signal(), Some(libc::SIGKILL), "{status:?}");
    }
}
