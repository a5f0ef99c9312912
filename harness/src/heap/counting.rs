//! [`CountingAllocator`]: a `GlobalAlloc` that forwards to another and
//! counts on the way.

use std::alloc::{GlobalAlloc, Layout, System};

use super::counters;

/// A global allocator that counts every allocation and free of the one it
/// wraps. Install it as `#[global_allocator]`; Brunt then reports `heap.*`
/// for every scenario of that binary.
///
/// `realloc` counts as one allocation of the new size and one free of the
/// old: the bytes allocated over a run then include every block a growing
/// vector passed through, as an allocation profiler counts them.
#[derive(Debug, Clone, Copy, Default)]
pub struct CountingAllocator<A = System> {
    inner: A,
}

impl CountingAllocator<System> {
    /// Counts the system allocator.
    pub const fn system() -> CountingAllocator<System> {
        CountingAllocator { inner: System }
    }
}

impl<A> CountingAllocator<A> {
    /// Counts `inner` (for instance `mimalloc::MiMalloc`).
    pub const fn new(inner: A) -> CountingAllocator<A> {
        CountingAllocator { inner }
    }
}

// SAFETY: every call forwards to `inner` with the caller's arguments and
// returns its result; counting touches only Brunt's own counters and never
// allocates.
unsafe impl<A: GlobalAlloc> GlobalAlloc for CountingAllocator<A> {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc`'s contract.
        let ptr = unsafe { self.inner.alloc(layout) };
        if !ptr.is_null() {
            counters::allocated(layout.size());
        }
        ptr
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc_zeroed`'s contract.
        let ptr = unsafe { self.inner.alloc_zeroed(layout) };
        if !ptr.is_null() {
            counters::allocated(layout.size());
        }
        ptr
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller upholds `dealloc`'s contract.
        unsafe { self.inner.dealloc(ptr, layout) };
        counters::freed(layout.size());
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller upholds `realloc`'s contract.
        let new = unsafe { self.inner.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            counters::freed(layout.size());
            counters::allocated(new_size);
        }
        new
    }
}
