//! The panic guard around the Parquet decoder.
//!
//! The decoder (the `parquet` and `arrow` crates) is large and sees untrusted bytes; on some
//! damaged files it panics instead of returning an error (see the crate's README, "Known
//! decoder panics"). [`decoding`] runs one call into the decoder so that such a panic:
//! - becomes [`DecoderPanic`], which the caller reports as the file's fault;
//! - prints nothing: no "thread panicked" line, no backtrace on stderr. A user who gave us a
//!   damaged file gets one line naming it, not a crash report.
//!
//! Only the decoder's own calls are guarded. crossdock's code around them (column type
//! checks, cell conversions, row builders) runs outside the guard, so a bug of ours stays a
//! panic with its message, never a "corrupt file".
//!
//! How the silence works: the first guarded call installs a process-wide panic hook that
//! wraps the hook in force then. While a thread is inside [`decoding`] (a thread-local
//! depth), a panic on that thread is not passed to the wrapped hook; every other panic, on
//! any thread, is, so panics elsewhere print exactly as before. A hook installed later wraps
//! this one and sees every panic.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;

thread_local! {
    /// How many guarded decoder calls this thread is inside (calls may nest).
    static DECODING_DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// The Parquet decoder panicked: the file is damaged in a way the decoder does not check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecoderPanic;

/// Runs `decode`, a call into the Parquet decoder, catching and silencing a panic in it.
pub fn decoding<T>(decode: impl FnOnce() -> T) -> Result<T, DecoderPanic> {
    install_quiet_hook();
    let _inside = Inside::enter();
    // The decoder's state is dropped with the file when it panics: nothing half-updated is
    // used again, so asserting unwind safety is sound.
    catch_unwind(AssertUnwindSafe(decode)).map_err(|_| DecoderPanic)
}

/// Marks this thread as inside a guarded call until dropped, also when unwinding.
struct Inside;

impl Inside {
    fn enter() -> Inside {
        DECODING_DEPTH.with(|depth| depth.set(depth.get() + 1));
        Inside
    }
}

impl Drop for Inside {
    fn drop(&mut self) {
        DECODING_DEPTH.with(|depth| depth.set(depth.get().saturating_sub(1)));
    }
}

fn inside_decoder() -> bool {
    // `try_with`: a panic while this thread's locals are torn down still prints.
    DECODING_DEPTH
        .try_with(|depth| depth.get() > 0)
        .unwrap_or(false)
}

fn install_quiet_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let wrapped = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !inside_decoder() {
                wrapped(info);
            }
        }));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_inside_is_caught_and_the_depth_is_restored() {
        assert_eq!(decoding(|| 7), Ok(7));
        let caught = decoding(|| -> u32 { panic!("a decoder bug") });
        assert_eq!(caught, Err(DecoderPanic));
        assert!(!inside_decoder(), "the depth is restored after an unwind");
        let nested = decoding(|| decoding(|| 1).map(|x| x + 1));
        assert_eq!(nested, Ok(Ok(2)));
        assert!(!inside_decoder());
    }
}
