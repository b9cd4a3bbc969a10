//! Work that must not take the CPU from requests: bulk imports. A thread doing it puts
//! itself in Linux's `SCHED_IDLE` class, where any ordinary runnable thread (the runtime's
//! workers answering quotes) preempts it; it still gets every cycle nobody else wants. An
//! unprivileged thread may enter that class but not leave it, so only threads that do
//! nothing else call [`lower_current_thread`]: the bulk writer here and the import threads
//! of the orders component.

use std::cell::Cell;

thread_local! {
    static LOWERED: Cell<bool> = const { Cell::new(false) };
}

/// Moves the calling thread to `SCHED_IDLE` (once; later calls do nothing). Where that is
/// refused or not Linux, the thread keeps its priority and a warning says so.
pub fn lower_current_thread() {
    if LOWERED.with(|l| l.replace(true)) {
        return;
    }
    if let Err(why) = lower() {
        tracing::warn!(%why, "a bulk thread keeps its normal priority");
    }
}

#[cfg(target_os = "linux")]
fn lower() -> Result<(), String> {
    use thread_priority::unix::{
        NormalThreadSchedulePolicy, ThreadSchedulePolicy, set_thread_priority_and_policy,
        thread_native_id,
    };
    set_thread_priority_and_policy(
        thread_native_id(),
        thread_priority::ThreadPriority::Min,
        ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle),
    )
    .map_err(|e| format!("{e:?}"))
}

#[cfg(not(target_os = "linux"))]
fn lower() -> Result<(), String> {
    Err("SCHED_IDLE is Linux's".into())
}

#[cfg(test)]
mod tests {
    #[cfg(target_os = "linux")]
    #[test]
    fn a_lowered_thread_is_in_the_idle_class() {
        use thread_priority::unix::{NormalThreadSchedulePolicy, ThreadSchedulePolicy};
        let policy = std::thread::spawn(|| {
            super::lower_current_thread();
            super::lower_current_thread();
            thread_priority::unix::thread_schedule_policy().expect("policy")
        })
        .join()
        .expect("thread");
        assert_eq!(
            policy,
            ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle)
        );
        // The caller's own thread is untouched.
        assert_ne!(
            thread_priority::unix::thread_schedule_policy().expect("policy"),
            ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle)
        );
    }
}
