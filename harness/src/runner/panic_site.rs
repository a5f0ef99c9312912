//! Where a scenario panicked: a panic hook that notes each panic's source
//! location on the panicking thread before the previous hook prints it, so
//! the report's reason can lead with `panicked at src/x.rs:12:5` rather than
//! leave it to the log, where a backtrace buries it.

use std::cell::RefCell;
use std::sync::Once;

thread_local! {
    static LAST_SITE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs the hook once per process; the hook that was in place (the
/// default one, which prints the message and any backtrace) still runs.
pub(crate) fn install() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if let Some(at) = info.location() {
                let site = format!("{}:{}:{}", at.file(), at.line(), at.column());
                LAST_SITE.with(|s| *s.borrow_mut() = Some(site));
            }
            previous(info);
        }));
    });
}

/// The location of the last panic on this thread, taken (so a later panic
/// is never credited with an earlier one's place).
pub(crate) fn take() -> Option<String> {
    LAST_SITE.with(|s| s.borrow_mut().take())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caught_panic_leaves_its_location() {
        install();
        let _ = take();
        let line = line!() + 1;
        let caught = std::panic::catch_unwind(|| panic!("planted"));
        assert!(caught.is_err());
        let site = take().expect("the hook saw the panic");
        assert!(site.starts_with(&format!("{}:{line}:", file!())), "{site}");
        assert_eq!(take(), None, "taken once");
    }
}
