//! The heap counters: one slot per live thread, each written by its owner
//! only (a load and a store, no atomic read-modify-write), read by anyone
//! as a sum. A thread claims a free slot at its first allocation and gives
//! it back when it exits (a `pthread` key destructor); the next owner goes
//! on adding to the same totals, so nothing counted is ever lost. A thread
//! that finds no free slot, or allocates while claiming or after giving its
//! slot back, counts in one shared slot with atomic adds.

use std::cell::Cell;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Slots for threads alive at once; threads beyond this share one.
const SLOTS: usize = 256;

/// One thread's counts (cumulative over every owner of the slot).
#[repr(align(128))]
struct Slot {
    owned: AtomicBool,
    allocated: AtomicU64,
    freed: AtomicU64,
    allocations: AtomicU64,
    frees: AtomicU64,
}

impl Slot {
    const fn new() -> Slot {
        Slot {
            owned: AtomicBool::new(false),
            allocated: AtomicU64::new(0),
            freed: AtomicU64::new(0),
            allocations: AtomicU64::new(0),
            frees: AtomicU64::new(0),
        }
    }
}

static OWNED: [Slot; SLOTS] = [const { Slot::new() }; SLOTS];
/// Counts of threads without a slot of their own, added atomically.
static SHARED: Slot = Slot::new();
/// Whether a `CountingAllocator` has counted anything in this process.
static COUNTING: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// This thread's slot; null before its first allocation. No destructor
    /// (a plain pointer), so reading it never allocates or registers one.
    static MINE: Cell<*const Slot> = const { Cell::new(std::ptr::null()) };
}

/// Single-writer add: only the slot's owner writes it.
#[inline]
fn bump(counter: &AtomicU64, by: u64) {
    counter.store(
        counter.load(Ordering::Relaxed).wrapping_add(by),
        Ordering::Relaxed,
    );
}

#[inline]
fn slot() -> &'static Slot {
    let mine = MINE.with(Cell::get);
    if mine.is_null() {
        return claim();
    }
    // SAFETY: MINE only ever holds null or a pointer to a static slot.
    unsafe { &*mine }
}

#[inline]
fn count(slot: &'static Slot, bytes: &AtomicU64, times: &AtomicU64, size: usize) {
    if std::ptr::eq(slot, &SHARED) {
        bytes.fetch_add(size as u64, Ordering::Relaxed);
        times.fetch_add(1, Ordering::Relaxed);
    } else {
        bump(bytes, size as u64);
        bump(times, 1);
    }
}

/// Counts an allocation of `size` bytes by the calling thread.
#[inline]
pub(super) fn allocated(size: usize) {
    let slot = slot();
    count(slot, &slot.allocated, &slot.allocations, size);
}

/// Counts a free of `size` bytes by the calling thread.
#[inline]
pub(super) fn freed(size: usize) {
    let slot = slot();
    count(slot, &slot.freed, &slot.frees, size);
}

/// The key whose destructor gives a thread's slot back when it exits.
fn release_key() -> Option<libc::pthread_key_t> {
    static KEY: OnceLock<Option<libc::pthread_key_t>> = OnceLock::new();
    *KEY.get_or_init(|| {
        let mut key: libc::pthread_key_t = 0;
        // SAFETY: creates a key with a destructor that is a plain function.
        let rc = unsafe { libc::pthread_key_create(&mut key, Some(release)) };
        (rc == 0).then_some(key)
    })
}

/// Runs at thread exit: the slot is free for the next thread, and what this
/// thread still frees while exiting goes to the shared slot.
extern "C" fn release(slot: *mut libc::c_void) {
    MINE.with(|m| m.set(&SHARED));
    // SAFETY: the key's value is only ever set to a static slot.
    let slot = unsafe { &*(slot as *const Slot) };
    slot.owned.store(false, Ordering::Release);
}

#[cold]
fn claim() -> &'static Slot {
    COUNTING.store(true, Ordering::Relaxed);
    // Allocations made while claiming (none expected) count as shared.
    MINE.with(|m| m.set(&SHARED));
    let Some(key) = release_key() else {
        return &SHARED;
    };
    for slot in &OWNED {
        if !slot.owned.load(Ordering::Relaxed)
            && slot
                .owned
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
        {
            // SAFETY: `key` is a live key; the value is a static slot.
            let rc = unsafe {
                libc::pthread_setspecific(key, slot as *const Slot as *const libc::c_void)
            };
            if rc != 0 {
                slot.owned.store(false, Ordering::Release);
                return &SHARED;
            }
            MINE.with(|m| m.set(slot));
            return slot;
        }
    }
    &SHARED
}

/// The heap as counted so far, over the process's life.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeapStats {
    /// Bytes allocated and not yet freed.
    pub live_bytes: u64,
    /// Bytes ever allocated (a `realloc` counts its new size).
    pub allocated_bytes: u64,
    /// Bytes ever freed.
    pub freed_bytes: u64,
    /// Allocations (including `realloc`s).
    pub allocations: u64,
    /// Frees (including the old blocks of `realloc`s).
    pub frees: u64,
}

/// Sums every thread's counts. Cheap (a few hundred loads); the sum is
/// consistent per counter, and `live_bytes` may be off by what other
/// threads allocate while it is being read.
pub fn stats() -> HeapStats {
    let mut s = HeapStats::default();
    for slot in OWNED.iter().chain(std::iter::once(&SHARED)) {
        s.allocated_bytes += slot.allocated.load(Ordering::Relaxed);
        s.freed_bytes += slot.freed.load(Ordering::Relaxed);
        s.allocations += slot.allocations.load(Ordering::Relaxed);
        s.frees += slot.frees.load(Ordering::Relaxed);
    }
    s.live_bytes = s.allocated_bytes.saturating_sub(s.freed_bytes);
    s
}

/// Whether this process counts its heap (a [`super::CountingAllocator`] is
/// the global allocator and has allocated).
pub fn is_counting() -> bool {
    COUNTING.load(Ordering::Relaxed)
}
